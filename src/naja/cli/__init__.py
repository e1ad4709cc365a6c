"""The `naja` command: thin click commands over naja's packages, imported lazily."""
