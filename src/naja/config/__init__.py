"""naja's configuration: `.condarc`-style files, naja's own file and `NAJA_*` variables.

`load_config()` returns the merged `Config`; `naja.config.edit` changes one file in place.
Precedence, lowest first (later sources override scalars and put their list entries first):

1. `/etc/conda/.condarc`, `/etc/conda/condarc`
2. `~/.conda/.condarc`, `~/.condarc`, `~/.mambarc`
3. `~/.config/naja/config.yaml` (naja's own user file; `naja config set` writes here)
4. `$CONDARC`, `$MAMBARC`
5. `<target prefix>/.condarc`
6. environment variables `CONDA_<KEY>` then `NAJA_<KEY>` (lists comma-separated)
7. command-line flags (applied by the commands)
"""

from naja.config.loader import Config, Source, config_sources, load_config

__all__ = ["Config", "Source", "config_sources", "load_config"]
