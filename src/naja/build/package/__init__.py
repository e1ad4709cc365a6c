"""Turning a finished build into a conda package: file collection, prefix detection,
relocation, the `info/` metadata, and the `.conda` / `.tar.bz2` archive."""
