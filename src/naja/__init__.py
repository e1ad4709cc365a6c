"""naja: conda packages end to end — manager, download engine, solver, builder and server."""

__version__ = "0.1.0"
