"""The solver's error: an unsatisfiable request, with its explanation in words and as a tree."""

from __future__ import annotations

from typing import Any

from naja.errors import NajaError


class Unsatisfiable(NajaError):
    """The request cannot be met. `explanation` is the text shown to a person; `problems` is
    the same content as a JSON-able tree (for `--json`)::

        {"requested": ["numpy >=2", ...],          # the requested specs in the conflict
         "tree": [node, ...],                       # top-down, one node per root statement
         "conflicts": [{"name": "python",
                        "requirements": [{"spec": "python 3.11.*", "from": "requested"},
                                         {"spec": "python >=3.12",
                                          "from": "dependency of numpy 2.0.0 (3 builds)"}]}],
         "hint": "..." or None}

    A node is {"label", "kind" (requested|pin|installed|dependency|constraint), "name",
    "spec", "problem" (None|missing|nomatch|virtual), "detail", "children": [node, ...]}.
    """

    exit_code = 1

    def __init__(self, explanation: str, problems: dict[str, Any], *, hint: str | None = None):
        super().__init__(explanation, hint=hint)
        # The whole text a person reads, hint line included.
        self.explanation = self.render()
        self.problems = problems


class SolverLimitError(NajaError):
    """The search gave up after `SolveRequest.max_conflicts` conflicts: no answer either way."""

    exit_code = 1
