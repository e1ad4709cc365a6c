"""naja.build: the `recipe.yaml` format (CEP-13/14) — parse, evaluate, render to stage-1 recipes."""
