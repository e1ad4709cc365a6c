"""Decoding whole `.zck` files (with and without a zstd dictionary) back to their bytes."""

from __future__ import annotations

import json
import random
import shutil
import subprocess

import pytest

from naja.repodata.zck import ZchunkDecodeError, decode_zchunk

pytestmark = pytest.mark.skipif(
    shutil.which("zck") is None or shutil.which("zstd") is None, reason="zck/zstd not installed"
)


def _sample(seed: int) -> str:
    rng = random.Random(seed)
    return json.dumps(
        {
            "packages": {
                f"p{j}-1.{rng.randrange(99)}-h{rng.randrange(10**6)}_0.conda": {
                    "name": f"p{j}",
                    "depends": ["python >=3.8", f"lib{rng.randrange(50)}"],
                }
                for j in range(60)
            }
        }
    )


@pytest.mark.parametrize("with_dict", [False, True])
def test_decode_matches_the_source(tmp_path, with_dict) -> None:
    source = tmp_path / "repodata.json"
    source.write_text("\n".join(_sample(i) for i in range(5)))
    args = ["zck", "-o", str(tmp_path / "out.zck")]
    if with_dict:
        for i in range(40):
            (tmp_path / f"s{i}.json").write_text(_sample(100 + i))
        subprocess.run(
            ["zstd", "--train", *map(str, tmp_path.glob("s*.json")), "-o", str(tmp_path / "d")],
            check=True, capture_output=True,
        )  # fmt: skip
        args += ["-D", str(tmp_path / "d")]
    subprocess.run([*args, str(source)], check=True, capture_output=True)
    data = (tmp_path / "out.zck").read_bytes()
    assert decode_zchunk(data) == source.read_bytes()
    broken = bytearray(data)
    broken[-10] ^= 0xFF
    with pytest.raises(ZchunkDecodeError):
        decode_zchunk(bytes(broken))
    with pytest.raises(ZchunkDecodeError):
        decode_zchunk(data[:-100])
