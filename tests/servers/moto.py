"""moto's server mode on 127.0.0.1: an S3 endpoint for tests.

    server = MotoS3(root, enforce_auth=True).start()
    server.endpoint                      # "http://127.0.0.1:PORT"
    server.create_bucket("chan")
    server.access_key, server.secret_key # an IAM user's key (with enforce_auth) or dummies
    server.stop()

With `enforce_auth`, moto checks every request's SigV4 signature against its IAM users after
the first few unauthenticated calls (`INITIAL_NO_AUTH_ACTION_COUNT`), which the fixture
spends on creating the bucket, the user, its policy and its key. The `moto_s3` fixture
factory starts servers and stops them at teardown.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers.nginx import free_port
from tests.servers.process import stop_process

DUMMY_KEY = ("testing-key-id", "testing-secret")
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


def find_moto() -> str | None:
    beside = Path(sys.executable).with_name("moto_server")
    return str(beside) if beside.exists() else shutil.which("moto_server")


class MotoS3:
    def __init__(self, root: Path, *, enforce_auth: bool = False, buckets: tuple[str, ...] = ()):
        self.root = root
        self.enforce_auth = enforce_auth
        self.buckets = buckets
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.access_key, self.secret_key = DUMMY_KEY

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment for a naja process using this server through the AWS variables."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def _boto(self, service: str, key: tuple[str, str] = DUMMY_KEY):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=key[0],
            aws_secret_access_key=key[1],
        )

    def start(self) -> MotoS3:
        binary = find_moto()
        if binary is None:
            pytest.skip("moto_server is not installed (moto[server])")
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = dict(os.environ)
        setup_calls = len(self.buckets) + 3
        if self.enforce_auth:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(setup_calls)
        log = open(self.root / "moto.log", "wb")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen(
            [binary, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.endpoint}/moto-api/", timeout=0.5)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError((self.root / "moto.log").read_text()[-2000:]) from None
                time.sleep(0.1)
        s3 = self._boto("s3")
        for bucket in self.buckets:
            s3.create_bucket(Bucket=bucket)
        if self.enforce_auth:
            iam = self._boto("iam")
            iam.create_user(UserName="naja")
            iam.put_user_policy(
                UserName="naja", PolicyName="all-s3", PolicyDocument=json.dumps(POLICY)
            )
            key = iam.create_access_key(UserName="naja")["AccessKey"]
            self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        return self

    def stop(self) -> None:
        stop_process(self.proc, timeout=5)
        self.proc = None


@pytest.fixture
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., MotoS3]]:
    started: list[MotoS3] = []

    def start(*, enforce_auth: bool = False, buckets: tuple[str, ...] = ("chan",)) -> MotoS3:
        server = MotoS3(
            tmp_path_factory.mktemp("moto"), enforce_auth=enforce_auth, buckets=buckets
        ).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
