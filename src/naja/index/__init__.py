"""Channel indexing: `repodata.json`, `repodata.json.zst` and CEP-16 shards from package files.

`naja index DIR` (see `naja.index.channel`) and the package server (`naja.server`) share the
pieces: `package_meta` reads and validates one archive, `writer` turns records into the files.
"""

from naja.index.channel import index_channel
from naja.index.package_meta import PackageMeta, inspect_package
from naja.index.writer import SubdirIndex, build_subdir_index

__all__ = ["PackageMeta", "SubdirIndex", "build_subdir_index", "index_channel", "inspect_package"]
