"""S3 channels: SigV4 against AWS's published examples, settings, and round trips on moto
with IAM enforcement on (so every request's signature is really checked)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import boto3

from naja.s3.settings import S3Location, settings_for
from naja.s3.sigv4 import AwsCredentials, presign, sign_headers
from tests.oci.helpers import CLOBBER, NOARCH, PACKAGES, create, installed, isolated_env, naja
from tests.servers.moto import moto_s3  # noqa: F401

# The example credentials and request of AWS's "Signature Calculations for the Authorization
# Header" and "Authenticating Requests: Using Query Parameters" pages (S3 API reference).
EXAMPLE = AwsCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
EXAMPLE_NOW = dt.datetime(2013, 5, 24, tzinfo=dt.UTC)


def test_sigv4_matches_the_aws_examples() -> None:
    headers = sign_headers(
        "GET",
        "https://examplebucket.s3.amazonaws.com/test.txt",
        {"Range": "bytes=0-9"},
        EXAMPLE,
        "us-east-1",
        now=EXAMPLE_NOW,
    )
    assert headers["Authorization"].endswith(
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
    url = presign(
        "https://examplebucket.s3.amazonaws.com/test.txt",
        EXAMPLE,
        "us-east-1",
        expires=86400,
        now=EXAMPLE_NOW,
    )
    assert url.endswith(
        "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )
    assert "wJalr" not in repr(EXAMPLE)


class _Entry:
    kind = "s3"
    access_key_id = "from-naja-auth"
    secret_access_key = "naja-secret"
    session_token = None


class _Provider:
    def entry_for(self, url: str) -> _Entry | None:
        return _Entry() if url.startswith("s3://chan/") else None


def test_settings_addressing_and_credentials_never_mixed(tmp_path: Path) -> None:
    base = {"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true"}
    aws = dict(base, AWS_REGION="eu-west-1")
    s = settings_for(S3Location.parse("s3://bucket/chan"), object(), aws)
    assert (s.endpoint, s.path_style, s.region) == (
        "https://s3.eu-west-1.amazonaws.com",
        False,
        "eu-west-1",
    )
    assert s.object_url(S3Location("bucket", "a/b+c.conda")) == (
        "https://bucket.s3.eu-west-1.amazonaws.com/a/b%2Bc.conda"
    )
    dotted = settings_for(S3Location.parse("s3://my.bucket/x"), object(), aws)
    assert dotted.path_style
    custom = dict(base, AWS_ENDPOINT_URL_S3="http://127.0.0.1:9000")
    s = settings_for(S3Location.parse("s3://bucket/chan"), object(), custom)
    assert (
        s.path_style and s.object_url(S3Location("bucket", "k")) == "http://127.0.0.1:9000/bucket/k"
    )
    forced = dict(custom, NAJA_S3_ADDRESSING_STYLE="virtual")
    assert not settings_for(S3Location.parse("s3://bucket/chan"), object(), forced).path_style

    env = dict(
        custom,
        AWS_ACCESS_KEY_ID="env-key",
        AWS_SECRET_ACCESS_KEY="env-secret",
        AWS_SESSION_TOKEN="env-session",
    )
    from_auth = settings_for(S3Location.parse("s3://chan/x"), _Provider(), env).credentials
    assert from_auth is not None
    # All three values from naja.auth: the environment's session token is not mixed in.
    assert (from_auth.access_key_id, from_auth.session_token) == ("from-naja-auth", None)
    from_env = settings_for(S3Location.parse("s3://other/x"), _Provider(), env).credentials
    assert from_env is not None and from_env.session_token == "env-session"


def _boto(server):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
    )


def test_round_trip_with_aws_env_credentials(moto_s3, tmp_path: Path) -> None:  # noqa: F811
    server = moto_s3(enforce_auth=True)
    url = "s3://chan/team/channel"
    env = isolated_env(tmp_path / "home", extra=server.env())
    up = naja("upload", "--to", url, *map(str, PACKAGES), env=env)
    assert up.returncode == 0, up.stderr
    keys = {o["Key"] for o in _boto(server).list_objects_v2(Bucket="chan")["Contents"]}
    for name in ("repodata.json", "repodata.json.zst", "repodata_shards.msgpack.zst"):
        assert f"team/channel/noarch/{name}" in keys
    assert any(k.startswith("team/channel/noarch/shards/") for k in keys)

    prefix = tmp_path / "env"
    out = create(prefix, url, "dependent", "small-executable", env=env)
    assert out.returncode == 0, out.stderr
    assert {"dependent-1.0-0", "dependency-1.0-0", "small-executable-1.0-0"} <= installed(prefix)
    assert (prefix / "bin" / "small").is_file()

    again = naja("upload", "--to", url, str(PACKAGES[0]), env=env)
    assert again.returncode != 0 and "--force" in again.stderr
    forced = naja("upload", "--to", url, "--force", str(PACKAGES[0]), env=env)
    assert forced.returncode == 0, forced.stderr

    # A package file already in the bucket but not in the index is refused too, and a
    # refused upload writes nothing (the first, new package is not left behind).
    s3 = _boto(server)
    s3.put_object(Bucket="chan", Key=f"team/channel/noarch/{CLOBBER.name}", Body=b"stray")
    other = NOARCH / "dependency-2.0-0.conda"
    stray = naja("upload", "--to", url, str(other), str(CLOBBER), env=env)
    assert stray.returncode != 0 and "not in its index yet" in stray.stderr
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="chan")["Contents"]}
    assert f"team/channel/noarch/{other.name}" not in keys


def test_naja_auth_entry_wins_and_wrong_secret_is_clear(moto_s3, tmp_path: Path) -> None:  # noqa: F811
    server = moto_s3(enforce_auth=True)
    url = "s3://chan/channel"
    good = {
        "s3://chan": {
            "S3Credentials": {
                "access_key_id": server.access_key,
                "secret_access_key": server.secret_key,
            }
        }
    }
    # The environment's AWS keys are wrong; naja.auth's entry for the bucket is used instead.
    bad_env = dict(
        server.env(), AWS_ACCESS_KEY_ID="AKIAWRONG", AWS_SECRET_ACCESS_KEY="Env-Wr0ng-Secret"
    )
    env = isolated_env(tmp_path / "home", good, bad_env)
    up = naja("upload", "--to", url, str(PACKAGES[1]), env=env)
    assert up.returncode == 0, up.stderr

    wrong = {
        "s3://chan": {
            "S3Credentials": {
                "access_key_id": server.access_key,
                "secret_access_key": "Auth-Wr0ng-Secret",
            }
        }
    }
    env = isolated_env(tmp_path / "home2", wrong, server.env())
    for out in (
        naja("upload", "--to", url, str(PACKAGES[0]), env=env),
        create(tmp_path / "env", url, "dependency", env=env),
    ):
        assert out.returncode != 0
        assert "Auth-Wr0ng-Secret" not in out.stderr + out.stdout
        assert server.secret_key not in out.stderr + out.stdout
    assert "refused access" in out.stderr or "HTTP 403" in out.stderr


def test_corrupted_object_is_a_clear_error(moto_s3, tmp_path: Path) -> None:  # noqa: F811
    server = moto_s3()
    url = "s3://chan/channel"
    env = isolated_env(tmp_path / "home", extra=server.env())
    up = naja("upload", "--to", url, str(PACKAGES[2]), env=env)
    assert up.returncode == 0, up.stderr
    key = "channel/noarch/small-executable-1.0-0.conda"
    s3 = _boto(server)
    data = bytearray(s3.get_object(Bucket="chan", Key=key)["Body"].read())
    data[len(data) // 2] ^= 0xFF
    s3.put_object(Bucket="chan", Key=key, Body=bytes(data))

    out = create(tmp_path / "env", url, "small-executable", env=env)
    assert out.returncode != 0
    assert "sha256 mismatch" in out.stderr and "small-executable" in out.stderr


def test_multipart_upload_retries_a_failed_part(moto_s3, monkeypatch, tmp_path: Path) -> None:  # noqa: F811
    """A big file goes up in parts; a part whose request fails is sent again on its own."""
    import hashlib
    import os

    from naja.s3 import multipart
    from naja.s3.client import S3Client
    from naja.s3.errors import S3Error

    server = moto_s3(enforce_auth=True)
    monkeypatch.setattr(multipart, "MULTIPART_MIN", 6 << 20)
    monkeypatch.setattr(multipart, "PART_SIZE", 5 << 20)
    data = os.urandom((12 << 20) + 777)
    path = tmp_path / "big-1.0-0.conda"
    path.write_bytes(data)
    env = {**server.env(), "AWS_CONFIG_FILE": str(tmp_path / "none")}
    client = S3Client(settings_for(S3Location.parse("s3://chan/x"), object(), env))
    real = client._request
    sent: list[str] = []

    def flaky(method, location, **kwargs):  # type: ignore[no-untyped-def]
        query = kwargs.get("query", "")
        sent.append(f"{method} {query.split('&')[0]}")
        if query.startswith("partNumber=2") and sent.count(f"{method} partNumber=2") == 1:
            raise S3Error("connection cut")
        return real(method, location, **kwargs)

    monkeypatch.setattr(client, "_request", flaky)
    client.put(
        S3Location("chan", "x/big-1.0-0.conda"),
        path,
        payload_sha256=hashlib.sha256(data).hexdigest(),
        if_none_match=True,
    )
    assert sent.count("PUT partNumber=2") == 2 and sent.count("PUT partNumber=3") == 1
    body = _boto(server).get_object(Bucket="chan", Key="x/big-1.0-0.conda")["Body"].read()
    assert body == data


def test_profile_files_and_no_credentials(moto_s3, tmp_path: Path) -> None:  # noqa: F811
    """Endpoint and region from the profile's config, keys from its credentials file
    (botocore's chain); without any credentials requests go unsigned and are refused."""
    server = moto_s3(enforce_auth=True)
    home = tmp_path / "home"
    env = isolated_env(home)
    (home / "aws-config").write_text(
        f"[profile naja]\nregion = us-east-1\nendpoint_url = {server.endpoint}\n"
    )
    (home / "aws-credentials").write_text(
        f"[naja]\naws_access_key_id = {server.access_key}\n"
        f"aws_secret_access_key = {server.secret_key}\n"
    )
    env.update(
        AWS_PROFILE="naja",
        AWS_CONFIG_FILE=str(home / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
    )
    url = "s3://chan/profiled"
    up = naja("upload", "--to", url, str(PACKAGES[1]), env=env)
    assert up.returncode == 0, up.stderr
    out = create(tmp_path / "env", url, "dependency", env=env)
    assert out.returncode == 0, out.stderr

    anonymous = dict(env, AWS_SHARED_CREDENTIALS_FILE=str(home / "missing"))
    refused = naja("upload", "--to", url, str(PACKAGES[0]), env=anonymous)
    assert refused.returncode != 0
    assert "(no credentials)" in refused.stderr


def test_concurrent_upload_commit_is_retried(moto_s3, monkeypatch, tmp_path: Path) -> None:  # noqa: F811
    """Another upload that commits its index while this one is uploading makes this one's
    If-Match commit fail; it merges again on the new index and loses nothing."""
    import json

    import naja.upload.s3 as upload_s3_module

    server = moto_s3()
    for key, value in {**server.env(), "AWS_CONFIG_FILE": str(tmp_path / "none")}.items():
        monkeypatch.setenv(key, value)
    url = "s3://chan/busy"
    upload_s3_module.upload_s3(url, [PACKAGES[1]])
    real_put = upload_s3_module._put_packages
    raced: list[bool] = []

    def put_and_race(*args, **kwargs):  # type: ignore[no-untyped-def]
        real_put(*args, **kwargs)
        if not raced:
            raced.append(True)
            upload_s3_module.upload_s3(url, [PACKAGES[2]])

    monkeypatch.setattr(upload_s3_module, "_put_packages", put_and_race)
    upload_s3_module.upload_s3(url, [PACKAGES[0]])
    index = json.loads(
        _boto(server).get_object(Bucket="chan", Key="busy/noarch/repodata.json")["Body"].read()
    )
    assert set(index["packages.conda"]) == {p.name for p in PACKAGES}


def test_missing_bucket_is_named(moto_s3, tmp_path: Path) -> None:  # noqa: F811
    server = moto_s3()
    env = isolated_env(tmp_path / "home", extra=server.env())
    out = naja("upload", "--to", "s3://no-such-bucket/chan", str(PACKAGES[1]), env=env)
    assert out.returncode != 0
    assert "NoSuchBucket" in out.stderr and "create the bucket 'no-such-bucket'" in out.stderr
