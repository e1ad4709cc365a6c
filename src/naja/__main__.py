"""`python -m naja` runs the CLI."""

from naja.cli.main import run

run()
