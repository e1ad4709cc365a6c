"""`naja auth`: log in and out of hosts, list them, see which store is used, import old ones."""

from __future__ import annotations

import sys

import click


def _secret(value: str | None, prompt: str) -> str:
    """A secret from the flag, else stdin when piped, else a hidden prompt."""
    if value:
        return value
    if not sys.stdin.isatty():
        data = sys.stdin.readline().rstrip("\n")
        if data:
            return data
        from naja.errors import UserInputError

        raise UserInputError(f"no {prompt.lower()} given", hint="pass it on stdin or as a flag")
    return click.prompt(prompt, hide_input=True)


@click.group(
    epilog="""\b
Examples:
  naja auth login prefix.dev --token             # asks for the token (hidden)
  echo "$TOKEN" | naja auth login ghcr.io/my-org --token
  naja auth login repo.example.org --username me --password
  naja auth login 's3://my-bucket' --s3-access-key-id AKIA... --s3-secret-access-key
  naja auth list
  naja auth status"""
)
def auth() -> None:
    """Store credentials for channels (OS keyring, or an encrypted file when there is none).

    HOST may carry a path (`ghcr.io/org`) so two registries on one host do not collide, and may
    be a wildcard (`*.example.org`); the most specific entry wins.
    """


@auth.command()
@click.argument("host")
@click.option("--token", "token", is_flag=False, flag_value="", default=None, help="Bearer token.")
@click.option(
    "--conda-token",
    is_flag=False,
    flag_value="",
    default=None,
    help="anaconda.org-style /t/<token>/ token.",
)
@click.option("--username", help="User name for basic auth.")
@click.option(
    "--password", is_flag=False, flag_value="", default=None, help="Password for basic auth."
)
@click.option("--s3-access-key-id", help="S3 access key id.")
@click.option(
    "--s3-secret-access-key", is_flag=False, flag_value="", default=None, help="S3 secret key."
)
@click.option("--s3-session-token", default=None, help="S3 session token.")
def login(
    host: str,
    token: str | None,
    conda_token: str | None,
    username: str | None,
    password: str | None,
    s3_access_key_id: str | None,
    s3_secret_access_key: str | None,
    s3_session_token: str | None,
) -> None:
    """Store a credential for HOST. Secrets left off the command line are asked for (hidden)."""
    from naja.auth import AuthEntry, open_store
    from naja.auth.keys import normalize_key
    from naja.errors import UserInputError

    kinds = [x is not None for x in (token, conda_token, username, s3_access_key_id)]
    if sum(kinds) != 1:
        raise UserInputError(
            "give exactly one kind of credential",
            hint="--token, --conda-token, --username (+ --password) or --s3-access-key-id",
        )
    if token is not None:
        entry = AuthEntry("bearer", token=_secret(token, "Token"))
    elif conda_token is not None:
        entry = AuthEntry("conda_token", token=_secret(conda_token, "Conda token"))
    elif username is not None:
        entry = AuthEntry("basic", username=username, password=_secret(password, "Password"))
    else:
        entry = AuthEntry(
            "s3",
            access_key_id=s3_access_key_id,
            secret_access_key=_secret(s3_secret_access_key, "S3 secret access key"),
            session_token=s3_session_token,
        )
    opened = open_store()
    key = normalize_key(host)
    opened.store.set(key, entry)
    click.echo(f"stored a {entry.kind} credential for {key} in the {opened.store.name}")


@auth.command()
@click.argument("host")
def logout(host: str) -> None:
    """Remove the credential stored for HOST."""
    from naja.auth import open_store
    from naja.auth.keys import normalize_key
    from naja.errors import UserInputError

    opened = open_store()
    key = normalize_key(host)
    if not opened.store.delete(key):
        raise UserInputError(f"no credential stored for {key}", hint="see `naja auth list`")
    click.echo(f"removed the credential for {key}")


@auth.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(as_json: bool) -> None:
    """The hosts with stored credentials and their kinds (never the secrets)."""
    from naja.auth import open_store
    from naja.cli.output import print_json

    opened = open_store()
    rows = []
    for key in opened.store.list_keys():
        entry = opened.store.get(key)
        if entry is not None:
            rows.append({"host": key, "kind": entry.kind, "username": entry.username})
    if as_json:
        print_json({"store": opened.store.name, "credentials": rows})
        return
    if not rows:
        click.echo(f"no credentials stored ({opened.store.name})")
    for row in rows:
        who = f" ({row['username']})" if row["username"] else ""
        click.echo(f"{row['host']:40s} {row['kind']}{who}")


@auth.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Which credential store is in use, and why."""
    from naja.auth import open_store
    from naja.cli.output import print_json

    opened = open_store()
    if as_json:
        print_json({"store": opened.store.name, "why": opened.why})
    else:
        click.echo(f"credential store: {opened.why}")


@auth.command()
@click.option("--dry-run", is_flag=True, help="Only list what would be imported.")
def migrate(dry_run: bool) -> None:
    """Import credentials from rattler/pixi, mamba and ~/.netrc into naja's store."""
    from naja.auth import open_store
    from naja.auth.importers import discover

    found = discover()
    if not found:
        click.echo("nothing to import (no rattler, mamba or netrc credentials found)")
        return
    opened = open_store()
    existing = set(opened.store.list_keys())
    for source, (path, entries) in found.items():
        for key, entry in sorted(entries.items()):
            if key in existing:
                click.echo(f"skip {key} from {source} ({path}): already stored")
                continue
            if not dry_run:
                opened.store.set(key, entry)
                existing.add(key)
            click.echo(
                f"{'would import' if dry_run else 'imported'} {entry.kind} for {key} from {source}"
            )
