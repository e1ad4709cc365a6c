"""`naja server`: run the package server (embedded SQLite + files, or PostgreSQL + S3)."""

from __future__ import annotations

import os

import click


def _startup_error(exc: Exception, settings) -> Exception:
    """Database and storage failures at start, said plainly and without the password."""
    from naja.errors import NajaError

    try:
        from sqlalchemy.engine import make_url

        where = make_url(settings.database_url).render_as_string(hide_password=True)
    except Exception:
        where = "the database"
    name = type(exc).__name__
    if name in ("OperationalError", "InterfaceError"):
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return NajaError(
            f"cannot open {where}: {reason}",
            hint="check --database (postgresql://user:password@host:port/dbname) and that the server runs",
        )
    if name in ("ClientError", "EndpointConnectionError", "NoCredentialsError"):
        return NajaError(
            f"cannot use the storage {settings.storage}: {exc}",
            hint="check --storage, --s3-endpoint and the AWS credentials (AWS_ACCESS_KEY_ID, …)",
        )
    return exc


@click.command(
    epilog="""\b
Examples:
  naja server --data-dir ./srv
  NAJA_SERVER_ADMIN_TOKEN=secret naja server --port 8000 --data-dir ./srv
  naja server --database postgresql://naja@db/naja --storage s3://bucket/naja \\
      --s3-endpoint http://minio:9000 --workers 4"""
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--data-dir",
    default="naja-server-data",
    show_default=True,
    type=click.Path(file_okay=False),
    help="SQLite database, package files and temporary uploads.",
)
@click.option("--database", default="", help="postgresql://… instead of SQLite in --data-dir.")
@click.option("--storage", default="", help="s3://bucket/prefix instead of files in --data-dir.")
@click.option("--s3-endpoint", default="", envvar="NAJA_SERVER_S3_ENDPOINT", help="S3-compatible endpoint URL.")
@click.option("--s3-region", default="us-east-1", show_default=True, help="S3 region.")
@click.option("--workers", default=1, show_default=True, type=int, help="uvicorn worker processes.")
@click.option("--max-upload", default=2 << 30, show_default=True, type=int, help="Largest upload in bytes.")
@click.option(
    "--max-unpacked", default=8 << 30, show_default=True, type=int, help="Largest unpacked package."
)
@click.option(
    "--proxy-ttl", default=600, show_default=True, type=int,
    help="Seconds a proxy channel's index is served before a background refresh.",
)
@click.option(
    "--secure-cookies", is_flag=True,
    help="Mark the web UI's cookies Secure (set it when clients reach the server over HTTPS).",
)
@click.option("--plugin", "plugins", multiple=True, help="Extra plugin module (repeatable).")
@click.option("--log-level", default="warning", show_default=True, help="uvicorn log level.")
def server(
    host: str,
    port: int,
    data_dir: str,
    database: str,
    storage: str,
    s3_endpoint: str,
    s3_region: str,
    workers: int,
    max_upload: int,
    max_unpacked: int,
    proxy_ttl: int,
    secure_cookies: bool,
    plugins: tuple[str, ...],
    log_level: str,
) -> None:
    """Serve conda channels at http://HOST:PORT/get/CHANNEL, with an API and a web UI.

    At first start an admin account is created: NAJA_SERVER_ADMIN_TOKEN=T makes T its API key,
    otherwise a password is printed once.
    """
    import uvicorn

    from naja.server.bootstrap import prepare
    from naja.server.hooks import Plugins
    from naja.server.settings import Settings
    from naja.server.state import ServerState

    settings = Settings(
        data_dir=data_dir,
        database=database,
        storage=storage,
        s3_endpoint=s3_endpoint,
        s3_region=s3_region,
        max_upload=max_upload,
        max_unpacked=max_unpacked,
        plugins=list(plugins),
        proxy_ttl=proxy_ttl,
        secure_cookies=secure_cookies,
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Migrate and create the admin once, here, before any worker starts.
    try:
        prepare(ServerState(settings, Plugins(settings.plugins)), say=lambda m: click.echo(m, err=True))
    except Exception as exc:
        raise _startup_error(exc, settings) from None
    os.environ.update(settings.to_env())
    click.echo(f"naja server: http://{host}:{port}/ (channels at /get/CHANNEL)", err=True)
    uvicorn.run(
        "naja.server.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        log_level=log_level,
        access_log=False,
    )
