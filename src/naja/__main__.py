"""`python -m naja` runs the CLI."""

import sys

from naja.cli.main import main

sys.exit(main())
