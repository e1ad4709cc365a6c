"""greetpy: says hello."""

__version__ = "1.0.0"


def greeting(name: str) -> str:
    return f"Hello from Python, {name}!"
