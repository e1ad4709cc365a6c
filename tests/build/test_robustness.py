"""Broken recipes fail with a RecipeError (file:line:column), never with an internal error.

Real corpus recipes are damaged at random (a line dropped, a template cut, a colon removed, an
item re-indented, an operator inserted) with a fixed seed, then rendered.
"""

from __future__ import annotations

import random
from pathlib import Path

from naja.build.output_json import output_document
from naja.build.render import RecipeRenderer
from naja.errors import NajaError


def _damage(lines: list[str], rng: random.Random) -> list[str]:
    out = list(lines)
    i = rng.randrange(len(out))
    op = rng.randrange(5)
    if op == 0:
        del out[i]
    elif op == 1:
        out[i] = out[i].replace("}}", "}", 1) if "}}" in out[i] else out[i] + " ${{ foo |"
    elif op == 2:
        out[i] = out[i].replace(":", "", 1)
    elif op == 3:
        out.insert(i, out[i].replace("- ", "  - ", 1))
    else:
        out[i] = out[i].replace("${{", "${{ 1 +", 1) if "${{" in out[i] else out[i][2:]
    return out


def test_damaged_recipes_give_recipe_errors(render_corpus: Path, tmp_path: Path) -> None:
    rng = random.Random(11)
    feedstocks = sorted(p for p in render_corpus.iterdir() if p.is_dir())
    rng.shuffle(feedstocks)
    target = tmp_path / "recipe.yaml"
    failures = []
    errors = 0
    for fs in feedstocks[:300]:
        lines = (fs / "recipe" / "recipe.yaml").read_text().splitlines()
        variants = sorted((fs / "variants").glob("*.yaml"))[:1]
        for _ in range(2):
            target.write_text("\n".join(_damage(lines, rng)))
            try:
                output_document(RecipeRenderer(target, variants, "linux-64").render())
            except NajaError as exc:
                errors += 1
                assert str(target) in str(exc).splitlines()[0]
            except Exception as exc:
                failures.append(f"{fs.name}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures[:10])
    assert errors > 50  # the damage does break recipes, and they are reported
