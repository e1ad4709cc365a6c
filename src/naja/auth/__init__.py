"""naja.auth: credentials per host (and path), kept in the OS keyring or a safe fallback.

- `AuthEntry`: one credential (bearer token, basic user/password, conda token, S3 keys).
- `open_store()`: the store in use — `NAJA_AUTH_FILE` (plain JSON, 0600), else the OS keyring
  when one answers, else an encrypted file — with a one-line reason (`store.why`).
- `AuthProvider`: the lookup the download engine calls; environment variables first, then the
  store; the longest host/path match wins, `*.example.org` wildcards allowed.
- `naja.auth.importers`: what users already have (rattler/pixi, mamba, ~/.netrc).
"""

from naja.auth.entry import AuthEntry
from naja.auth.lookup import AuthProvider, default_provider
from naja.auth.store import open_store

__all__ = ["AuthEntry", "AuthProvider", "default_provider", "open_store"]
