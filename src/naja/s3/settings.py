"""Where and as whom to reach a bucket: region, endpoint, addressing style, credentials.

Sources, as the AWS tools read them:
- region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region` in `~/.aws/config`
  (`AWS_CONFIG_FILE`, profile `AWS_PROFILE`), else `us-east-1`;
- endpoint: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else
  AWS (`https://s3.<region>.amazonaws.com`);
- addressing: `NAJA_S3_ADDRESSING_STYLE=path|virtual`; by default path-style for a custom
  endpoint (MinIO, Ceph, moto... rarely have wildcard DNS) and for bucket names with dots,
  virtual-hosted for AWS;
- credentials: a naja.auth entry for `s3://bucket` (kind s3) wins; otherwise the AWS chain —
  `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, else botocore's chain
  (profiles, SSO, instance roles). One source supplies all three values, never a mix.
  No credentials at all means unsigned requests (public buckets).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from naja.errors import UserInputError
from naja.s3.sigv4 import AwsCredentials, encode_key


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str  # no leading slash; may be empty (the bucket's root)

    @classmethod
    def parse(cls, url: str) -> S3Location:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise UserInputError(
                f"{url!r} is not an S3 URL", hint="write s3://BUCKET/PATH, e.g. s3://my-bucket/chan"
            )
        return cls(parts.netloc, parts.path.lstrip("/"))

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def child(self, *parts: str) -> S3Location:
        key = "/".join(p.strip("/") for p in (self.key, *parts) if p.strip("/"))
        return S3Location(self.bucket, key)


def _profile_config(env: Mapping[str, str]) -> dict[str, str]:
    path = Path(env.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config").expanduser()
    parser = configparser.RawConfigParser()
    try:
        parser.read(path)
    except (OSError, configparser.Error):
        return {}
    profile = env.get("AWS_PROFILE") or "default"
    section = "default" if profile == "default" else f"profile {profile}"
    return dict(parser.items(section)) if parser.has_section(section) else {}


@dataclass(frozen=True)
class S3Settings:
    region: str
    endpoint: str  # scheme://host[:port], no trailing slash
    path_style: bool
    credentials: AwsCredentials | None

    def object_url(self, location: S3Location) -> str:
        """The HTTP URL of an object (or of the bucket when the key is empty)."""
        parts = urlsplit(self.endpoint)
        key = encode_key(location.key)
        if self.path_style:
            base = f"{self.endpoint}/{location.bucket}"
        else:
            base = f"{parts.scheme}://{location.bucket}.{parts.netloc}"
        return f"{base}/{key}" if key else f"{base}/"


def aws_chain(env: Mapping[str, str]) -> AwsCredentials | None:
    """The AWS SDK's credential chain: environment, else botocore's providers."""
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return AwsCredentials(key, secret, env.get("AWS_SESSION_TOKEN") or None, "environment")
    try:
        import botocore.session

        session = botocore.session.Session(profile=env.get("AWS_PROFILE") or None)
        found = session.get_credentials()
    except Exception:
        return None
    if found is None:
        return None
    frozen = found.get_frozen_credentials()
    return AwsCredentials(
        frozen.access_key, frozen.secret_key, frozen.token or None, f"AWS {found.method}"
    )


def credentials_for(
    location: S3Location, provider: Any = None, env: Mapping[str, str] | None = None
) -> AwsCredentials | None:
    env = os.environ if env is None else env
    if provider is None:
        from naja.fetch.credentials import default_provider

        provider = default_provider()
    entry_for = getattr(provider, "entry_for", None)
    if entry_for is not None:
        entry = entry_for(location.url)
        if entry is not None and entry.kind == "s3":
            if not (entry.access_key_id and entry.secret_access_key):
                raise UserInputError(
                    f"the naja auth entry for s3://{location.bucket} lacks a key id or secret",
                    hint=f"store both: naja auth login s3://{location.bucket} ...",
                )
            return AwsCredentials(
                entry.access_key_id,
                entry.secret_access_key,
                entry.session_token,
                f"naja auth s3://{location.bucket}",
            )
    return aws_chain(env)


def settings_for(
    location: S3Location, provider: Any = None, env: Mapping[str, str] | None = None
) -> S3Settings:
    env = os.environ if env is None else env
    profile = _profile_config(env)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or profile.get("region")
    region = region or "us-east-1"
    endpoint = (
        env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or profile.get("endpoint_url")
    )
    custom = bool(endpoint)
    endpoint = (endpoint or f"https://s3.{region}.amazonaws.com").rstrip("/")
    style = env.get("NAJA_S3_ADDRESSING_STYLE", "").lower()
    if style not in ("", "path", "virtual"):
        raise UserInputError(
            f"NAJA_S3_ADDRESSING_STYLE={style!r} is not path or virtual", hint="unset it or fix it"
        )
    path_style = style == "path" or (not style and (custom or "." in location.bucket))
    return S3Settings(region, endpoint, path_style, credentials_for(location, provider, env))
