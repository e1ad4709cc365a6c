"""The `greetpy` command."""

import sys

from greetpy import greeting


def main() -> int:
    print(greeting(sys.argv[1] if len(sys.argv) > 1 else "world"))
    return 0
