"""Confining a command to an environment: policies, bubblewrap / sandbox-exec, process supervision.

`policy` says what a sandboxed command may see; `bwrap` and `sbpl` turn a policy into a
command line for Linux and macOS; `launch` picks the backend and fails closed; `process`
runs the command, forwarding signals and returning shell-like exit codes.
"""
