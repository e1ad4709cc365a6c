"""Plugins shipped with naja server (registered by default): download statistics and
repodata patching."""
