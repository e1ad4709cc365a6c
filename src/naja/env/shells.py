"""Shell dialects: how each shell sets and unsets variables, and the hook that defines `naja`.

Pure text generation; `naja shell` prints what these return. Supported: bash, zsh, fish,
xonsh, powershell, cmd.
"""

from __future__ import annotations

from collections.abc import Mapping

SHELLS = ("bash", "zsh", "fish", "xonsh", "powershell", "cmd")

# Markers around the block `naja shell init` writes into a shell's start-up file.
BEGIN = "# >>> naja initialize >>>"
END = "# <<< naja initialize <<<"

RC_FILES = {
    "bash": "~/.bashrc",
    "zsh": "~/.zshrc",
    "fish": "~/.config/fish/config.fish",
    "xonsh": "~/.xonshrc",
    "powershell": "~/.config/powershell/profile.ps1",
}


def _sq(value: str) -> str:
    """POSIX single quotes (fish and xonsh accept the same escaping for our purposes)."""
    return "'" + value.replace("'", "'\\''") + "'"


def _fish_q(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _py_q(value: str) -> str:
    return repr(value)


def _ps_q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render_changes(
    shell: str, set_vars: Mapping[str, str], unset: list[str], pathsep: str = ":"
) -> str:
    """The script that makes the shell's environment have `set_vars` and lack `unset`."""
    lines: list[str] = []
    if shell in ("bash", "zsh"):
        lines += [f"unset {k}" for k in unset]
        lines += [f"export {k}={_sq(v)}" for k, v in set_vars.items()]
    elif shell == "fish":
        lines += [f"set -e {k}" for k in unset]
        for k, v in set_vars.items():
            if k == "PATH":
                lines.append("set -gx PATH " + " ".join(_fish_q(p) for p in v.split(pathsep) if p))
            else:
                lines.append(f"set -gx {k} {_fish_q(v)}")
    elif shell == "xonsh":
        lines += [f"del ${k}" for k in unset]
        lines += [f"${k} = {_py_q(v)}" for k, v in set_vars.items()]
    elif shell == "powershell":
        lines += [f"Remove-Item Env:{k} -ErrorAction SilentlyContinue" for k in unset]
        lines += [f"$Env:{k} = {_ps_q(v)}" for k, v in set_vars.items()]
    elif shell == "cmd":
        lines += [f'@SET "{k}="' for k in unset]
        lines += [f'@SET "{k}={v}"' for k, v in set_vars.items()]
    else:
        raise ValueError(shell)
    return "\n".join(lines) + ("\n" if lines else "")


def env_diff(
    before: Mapping[str, str], after: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """What to set and unset to go from `before` to `after`."""
    set_vars = {k: v for k, v in after.items() if before.get(k) != v}
    unset = [k for k in before if k not in after]
    return set_vars, unset


def source_scripts(shell: str, scripts: list[str]) -> str:
    """Lines that run deactivate.d scripts in the current shell (sh scripts for sh shells)."""
    if shell in ("bash", "zsh"):
        return "".join(f". {_sq(s)}\n" for s in scripts if s.endswith(".sh"))
    if shell == "fish":
        return "".join(f"source {_fish_q(s)}\n" for s in scripts if s.endswith(".fish"))
    return ""


def hook(shell: str, exe: str) -> str:
    """The function that makes `naja activate/deactivate` change the calling shell."""
    if shell in ("bash", "zsh"):
        return f"""export NAJA_EXE={_sq(exe)}
naja() {{
    case "${{1:-}}" in
        activate|deactivate|reactivate)
            local __naja_script
            __naja_script="$("$NAJA_EXE" shell "$@" -s {shell})" || return $?
            eval "$__naja_script"
            ;;
        *)
            "$NAJA_EXE" "$@"
            ;;
    esac
}}
eval "$(_NAJA_COMPLETE={shell}_source "$NAJA_EXE" 2>/dev/null)"
"""
    if shell == "fish":
        return f"""set -gx NAJA_EXE {_fish_q(exe)}
function naja
    switch "$argv[1]"
        case activate deactivate reactivate
            set -l __naja_script ("$NAJA_EXE" shell $argv -s fish)
            or return $status
            string join \\n -- $__naja_script | source
        case '*'
            "$NAJA_EXE" $argv
    end
end
_NAJA_COMPLETE=fish_source "$NAJA_EXE" 2>/dev/null | source
"""
    if shell == "xonsh":
        return f"""$NAJA_EXE = {_py_q(exe)}
def _naja(args):
    import subprocess
    if args and args[0] in ('activate', 'deactivate', 'reactivate'):
        # xonsh keeps its environment apart from os.environ: pass it on explicitly.
        out = subprocess.run([$NAJA_EXE, 'shell', *args, '-s', 'xonsh'], capture_output=True, text=True, env=${{...}}.detype())
        if out.returncode:
            print(out.stderr, end='')
            return out.returncode
        execx(out.stdout)
    else:
        return subprocess.run([$NAJA_EXE, *args], env=${{...}}.detype()).returncode
aliases['naja'] = _naja
"""
    if shell == "powershell":
        return f"""$Env:NAJA_EXE = {_ps_q(exe)}
function naja {{
    if ($args.Count -gt 0 -and @('activate','deactivate','reactivate') -contains $args[0]) {{
        $script = & $Env:NAJA_EXE shell @args -s powershell
        if ($LASTEXITCODE -ne 0) {{ return }}
        Invoke-Expression ($script -join "`n")
    }} else {{
        & $Env:NAJA_EXE @args
    }}
}}
"""
    if shell == "cmd":
        return f"""@SET "NAJA_EXE={exe}"
@DOSKEY naja=for /f "delims=" %%i in ('"%NAJA_EXE%" shell $* -s cmd') do @%%i
"""
    raise ValueError(shell)


def init_block(shell: str, exe: str) -> str:
    """The block `naja shell init` puts into the shell's start-up file."""
    if shell == "fish":
        body = f"{_fish_q(exe)} shell hook -s fish | source"
    elif shell == "xonsh":
        body = f"execx($({_py_q(exe)} shell hook -s xonsh))"
    elif shell == "powershell":
        body = f'(& {_ps_q(exe)} shell hook -s powershell) -join "`n" | Invoke-Expression'
    else:
        body = f'eval "$({_sq(exe)} shell hook -s {shell})"'
    return f"{BEGIN}\n{body}\n{END}\n"


def replace_block(text: str, block: str | None) -> str:
    """`text` with naja's block replaced by `block` (removed when None), or appended."""
    start = text.find(BEGIN)
    end = text.find(END, start) if start != -1 else -1
    if start != -1 and end != -1:
        end += len(END)
        if end < len(text) and text[end] == "\n":
            end += 1
        return text[:start] + (block or "") + text[end:]
    if block is None:
        return text
    sep = "" if not text or text.endswith("\n") else "\n"
    return text + sep + block
