"""naja server: a conda package server (quetz's role) built on FastAPI and SQLAlchemy.

Embedded by default (SQLite and files in a data directory); PostgreSQL and S3 for scale-out
with several stateless workers. Entry points: `create_app` (`naja.server.app`) and
`naja server` (`naja.cli.server`).
"""
