"""zchunk: header parsing against files made by `zck`, delta updates over nginx multi-range."""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from naja.fetch import Downloader, DownloadRequest
from naja.fetch.zchunk.header import HeaderError, parse_header, read_ci, read_header
from naja.fetch.zchunk.multipart import boundary_of
from tests.fetch.conftest import access_log, fast_config, sha256

pytestmark = pytest.mark.skipif(shutil.which("zck") is None, reason="zck not installed")


def make_text(path: Path, seed: int, changes: int) -> None:
    rng = random.Random(seed)
    lines = [f"line {i} " + "".join(rng.choices("abcdefghij", k=60)) for i in range(20_000)]
    edit = random.Random(seed + 1)
    for _ in range(changes):
        at = edit.randrange(len(lines))
        lines[at : at + 3] = [f"changed {at}"]
    path.write_text("\n".join(lines) + "\n")


def zck(source: Path, *args: str) -> Path:
    out = source.with_name(source.name + ".zck")
    subprocess.run(["zck", *args, "-o", str(out), str(source)], check=True, capture_output=True)
    return out


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "old").mkdir()
    (tmp_path / "www").mkdir()
    make_text(tmp_path / "old" / "repodata.json", 1, 0)
    make_text(tmp_path / "www" / "repodata.json", 1, 5)
    return zck(tmp_path / "old" / "repodata.json"), zck(tmp_path / "www" / "repodata.json")


def test_compressed_integers() -> None:
    assert read_ci(b"\x81", 0) == (1, 1)
    assert read_ci(b"\x31\x86", 0) == (49 + (6 << 7), 2)
    with pytest.raises(HeaderError):
        read_ci(b"\x01", 0)


def test_header_matches_zck_read_header(versions) -> None:
    _old, new = versions
    header = read_header(new)
    header.verify()
    info = subprocess.run(
        ["zck_read_header", str(new)], check=True, capture_output=True, text=True
    ).stdout
    assert f"Header size: {header.size}" in info
    assert f"Chunk count: {len(header.chunks)}" in info
    assert header.header_digest.hex() in info
    assert header.data_digest.hex() in info
    assert header.file_size == new.stat().st_size


def test_header_with_uncompressed_digests_and_sha256_chunks(tmp_path) -> None:
    src = tmp_path / "x.txt"
    make_text(src, 3, 0)
    out = zck(src, "-u", "-h", "sha256")
    header = read_header(out)
    header.verify()
    assert header.chunk_hash_type == 1 and header.file_size == out.stat().st_size


def test_corrupt_header_is_rejected(versions) -> None:
    _old, new = versions
    raw = bytearray(new.read_bytes()[:4096])
    header = parse_header(bytes(raw))
    raw[header.size - 5] ^= 0xFF
    with pytest.raises(HeaderError):
        parse_header(bytes(raw)).verify()
    with pytest.raises(HeaderError):
        parse_header(b"PK\x03\x04" + bytes(100))


def test_boundary_parsing() -> None:
    assert boundary_of("multipart/byteranges; boundary=00000000001") == "00000000001"
    assert boundary_of('multipart/byteranges; boundary="a b"') == "a b"
    assert boundary_of("application/octet-stream") is None


def test_delta_update_fetches_only_missing_chunks(nginx, versions, tmp_path) -> None:
    old, new = versions
    server = nginx(new.parent, access_log=True)
    target = tmp_path / "out" / "repodata.json.zck"
    req = DownloadRequest(
        f"{server.url}/{new.name}", target, sha256=sha256(new.read_bytes()), zchunk_base=old
    )
    with Downloader(fast_config()) as dl:
        result = dl.download(req)
    assert target.read_bytes() == new.read_bytes()
    assert result.reused_bytes > new.stat().st_size // 2
    # What nginx sent: the header probe plus the missing chunks, far less than the file.
    # The header probe and at least one range request; a moment for nginx to log any more.
    access_log(server, 2)
    time.sleep(0.2)
    sent = sum(int(line.split()[9]) for line in access_log(server, 2).splitlines())
    assert sent < new.stat().st_size // 2
    assert result.reused_bytes + sent >= new.stat().st_size
    # And the real tool agrees the file is whole.
    unzck = subprocess.run(["unzck", "-c", str(target)], capture_output=True, check=True)
    assert unzck.stdout == (new.parent / "repodata.json").read_bytes()


def test_delta_with_many_ranges_over_https(nginx, tmp_path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "www").mkdir()
    make_text(tmp_path / "old" / "r.json", 9, 0)
    make_text(tmp_path / "www" / "r.json", 9, 400)  # changes scattered over most chunks
    old = zck(tmp_path / "old" / "r.json", "-s", "line 1")
    new = zck(tmp_path / "www" / "r.json", "-s", "line 1")
    server = nginx(new.parent)
    target = tmp_path / "r.json.zck"
    req = DownloadRequest(
        f"{server.https_url}/{new.name}", target, sha256=sha256(new.read_bytes()), zchunk_base=old
    )
    with Downloader(fast_config(ca_bundle=server.ca_cert)) as dl:
        result = dl.download(req)
    assert target.read_bytes() == new.read_bytes()
    assert len(read_header(new).chunks) > 200 and result.reused_bytes > 0


def test_delta_falls_back_when_ranges_are_ignored(faulty, versions, tmp_path) -> None:
    from tests.servers.faulty import Fault

    old, new = versions
    data = new.read_bytes()
    faulty.add("/r.zck", data)
    faulty.plan("/r.zck", Fault("norange"))
    target = tmp_path / "r.zck"
    req = DownloadRequest(f"{faulty.url}/r.zck", target, sha256=sha256(data), zchunk_base=old)
    with Downloader(fast_config()) as dl:
        result = dl.download(req)
    assert target.read_bytes() == data and result.reused_bytes == 0


def test_delta_with_a_corrupt_local_copy_falls_back(nginx, versions, tmp_path) -> None:
    old, new = versions
    broken = bytearray(old.read_bytes())
    header = read_header(old)
    broken[header.size + 10] ^= 0xFF  # inside the first data chunk
    old.write_bytes(bytes(broken))
    server = nginx(new.parent)
    target = tmp_path / "r.zck"
    req = DownloadRequest(
        f"{server.url}/{new.name}", target, sha256=sha256(new.read_bytes()), zchunk_base=old
    )
    with Downloader(fast_config()) as dl:
        result = dl.download(req)
    assert target.read_bytes() == new.read_bytes()
    assert result.reused_bytes == 0
