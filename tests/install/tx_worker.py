"""Child process for the kill tests: `python -m tests.install.tx_worker PREFIX CACHE CHANNEL MODE`
installs the channel's "new" set into PREFIX, saying `go` on stdout just before it starts and
the seconds it took at the end. MODE "warm" fills the package cache first (the install is then
only the transaction); "cold" leaves the downloads and extraction inside the install."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from naja.install import PackageCache, install, installed_records
from tests.install.pkgmaker import channel_records


def main() -> None:
    prefix, cache, channel, mode = sys.argv[1:5]
    recs = channel_records(Path(channel))
    new = [r for name, r in sorted(recs.items()) if name.startswith("new")]
    cache_obj = PackageCache([cache])
    if mode == "warm":
        cache_obj.populate(new)
    old = [r for r in installed_records(prefix) if not r.name.startswith("new")]
    print("go", flush=True)
    t0 = time.perf_counter()
    install(prefix, new, old, cache=cache_obj, run_scripts=True)
    print(f"{time.perf_counter() - t0:.4f}", flush=True)


if __name__ == "__main__":
    main()
