"""naja.solve: a conda solver (CDCL over package records) whose conflicts explain themselves."""
