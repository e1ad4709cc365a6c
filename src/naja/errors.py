"""The error types every naja package raises; the CLI turns them into one readable message."""

from __future__ import annotations


class NajaError(Exception):
    """An error a user can act on: what went wrong, where, and how to fix it.

    `exit_code` is what the CLI exits with; `hint` is an optional line telling how to fix it.
    """

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The full text shown to a user (message, then the hint on its own line)."""
        text = self.message
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text

    def __str__(self) -> str:
        return self.render()


class ParseError(NajaError, ValueError):
    """Text that does not parse: names the kind of thing, the text, and points at the position."""

    exit_code = 2

    def __init__(
        self,
        kind: str,
        text: str,
        reason: str,
        position: int | None = None,
        *,
        hint: str | None = None,
    ) -> None:
        self.kind = kind
        self.text = text
        self.reason = reason
        self.position = position
        message = f"invalid {kind} {text!r}: {reason}"
        if position is not None and 0 <= position <= len(text):
            # The caret lines up under the text printed after the two-space indent.
            message += f"\n  {text}\n  {' ' * position}^"
        super().__init__(message, hint=hint)


class UserInputError(NajaError):
    """A request that cannot be carried out as given (bad flag combination, unknown name, ...)."""

    exit_code = 2
