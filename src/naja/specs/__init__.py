"""Conda's data model: versions, version specs, match specs, records, channels, platforms.

Pure code, no I/O except the explicit `load_*` helpers that decode bytes given to them.
"""
