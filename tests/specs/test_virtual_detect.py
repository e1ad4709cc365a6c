"""Host detection for virtual packages (naja.env) and agreement with rattler on this machine."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from naja.env import virtual_packages as det
from naja.specs.platform import Platform

CPUINFO_V3 = textwrap.dedent(
    """\
    processor\t: 0
    vendor_id\t: GenuineIntel
    flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm abm bmi1 avx2 bmi2 erms
    bugs\t\t: spectre_v1

    processor\t: 1
    flags\t\t: fpu
    """
)


def test_cpuinfo_flags_reads_first_processor() -> None:
    flags = det.cpuinfo_flags(CPUINFO_V3)
    assert {"avx2", "bmi2", "sse4_2"} <= flags
    assert "spectre_v1" not in flags
    assert det.cpuinfo_flags("nothing here") == set()


@pytest.mark.parametrize(
    ("drop", "level"),
    [
        (set(), "x86_64_v3"),
        ({"avx2"}, "x86_64_v2"),
        ({"abm"}, "x86_64_v2"),
        ({"popcnt"}, "x86_64"),
        ({"pni"}, "x86_64"),
    ],
)
def test_x86_64_levels(drop: set[str], level: str) -> None:
    flags = det.cpuinfo_flags(CPUINFO_V3) - drop
    assert det.x86_64_level(flags) == level


def test_x86_64_v4_needs_every_lower_level() -> None:
    v4 = det.cpuinfo_flags(CPUINFO_V3) | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}
    assert det.x86_64_level(v4) == "x86_64_v4"
    # AVX-512 without AVX2 is not v4: levels are cumulative
    assert det.x86_64_level(v4 - {"avx2"}) == "x86_64_v2"


def test_cuda_absent_library_is_none() -> None:
    assert det.cuda_version(["libdoes-not-exist.so.1"]) is None
    # a library without cuDriverGetVersion is skipped too
    libc = "libc.so.6" if sys.platform.startswith("linux") else None
    if libc:
        assert det.cuda_version([libc]) is None


def test_detect_host_is_cached_and_consistent() -> None:
    a = det.detect_host()
    assert det.detect_host() is a
    if sys.platform.startswith("linux"):
        assert a.platform.is_linux
        assert a.linux is not None and a.linux[0].isdigit()
        assert a.osx is None and a.win is None


def test_detect_virtual_packages_honours_env() -> None:
    env = {"CONDA_SUBDIR": "osx-arm64", "CONDA_OVERRIDE_OSX": "12.3"}
    got = {v.name: v for v in det.detect_virtual_packages(env=env)}
    assert got["__osx"].version == "12.3"
    assert "__glibc" not in got
    assert got["__archspec"].build == "m1"
    own = {v.name for v in det.detect_virtual_packages(Platform.LINUX_64, env={})}
    assert {"__unix", "__linux", "__archspec"} <= own


_ORACLE_ENVS: list[dict[str, str]] = [
    {},
    {"CONDA_OVERRIDE_CUDA": "12.4"},
    {"CONDA_OVERRIDE_CUDA": ""},
    {"CONDA_OVERRIDE_GLIBC": "2.17"},
    {"CONDA_OVERRIDE_GLIBC": ""},
    {"CONDA_OVERRIDE_ARCHSPEC": "haswell"},
    {"CONDA_OVERRIDE_ARCHSPEC": ""},
    {"CONDA_OVERRIDE_LINUX": "5.15.0"},
    {"CONDA_OVERRIDE_OSX": ""},
    {"CONDA_OVERRIDE_WIN": ""},
    {"CONDA_OVERRIDE_GLIBC": "2.28", "CONDA_OVERRIDE_CUDA": "11.8"},
]

# rattler reads CONDA_OVERRIDE_* from the process environment: set each case in turn.
_RATTLER_PROBE = """
import json, os, sys, rattler
out = []
for env in json.loads(sys.stdin.read()):
    for key in [k for k in os.environ if k.startswith("CONDA_")]:
        del os.environ[key]
    os.environ.update(env)
    vps = rattler.VirtualPackage.detect(rattler.VirtualPackageOverrides.from_env())
    out.append(sorted(str(v.into_generic()) for v in vps))
print(json.dumps(out))
sys.stdout.flush()
os._exit(0)
"""


@pytest.fixture(scope="module")
def rattler_detected() -> list[list[str]]:
    # One child process for every case, so rattler's exit-time crash (if any) stays out of
    # pytest and the suite pays for one interpreter start.
    import json

    out = subprocess.run(
        [sys.executable, "-c", _RATTLER_PROBE],
        input=json.dumps(_ORACLE_ENVS),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="rattler oracle run on Linux")
@pytest.mark.parametrize("case", range(len(_ORACLE_ENVS)))
def test_matches_rattler_detect(case: int, rattler_detected: list[list[str]]) -> None:
    """Same names, versions and builds as rattler for the host platform.

    Differences kept on purpose (docs/differences.md): rattler applies CONDA_OVERRIDE_OSX/WIN on
    any host and keeps CONDA_OVERRIDE_LINUX verbatim; naja follows conda there.
    """
    env = _ORACLE_ENVS[case]
    ours = sorted(str(v) for v in det.detect_virtual_packages(env=env))
    assert ours == rattler_detected[case], env


def _fake_libcuda(tmp_path, body: str) -> str:
    import shutil

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not sys.platform.startswith("linux"):
        pytest.skip("needs a C compiler on Linux to build a stand-in libcuda")
    src = tmp_path / "fake.c"
    src.write_text(f"int cuDriverGetVersion(int *v) {{ {body} }}\n")
    lib = tmp_path / "libcuda.so.1"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src)], check=True, timeout=60)
    return str(lib)


def test_cuda_version_from_driver(tmp_path) -> None:
    lib = _fake_libcuda(tmp_path, "*v = 12040; return 0;")
    assert det.cuda_version([lib]) == "12.4"


def test_cuda_driver_error_means_no_cuda(tmp_path) -> None:
    # 100 is CUDA_ERROR_NO_DEVICE: a driver installed without a usable GPU
    lib = _fake_libcuda(tmp_path, "*v = 0; return 100;")
    assert det.cuda_version(["libnot-here.so", lib]) is None


def test_macos_version_sees_past_the_compat_shim() -> None:
    assert det.macos_version("linux", lambda: "14.5") is None
    assert det.macos_version("darwin", lambda: "14.5", lambda: "never asked") == "14.5"
    assert det.macos_version("darwin", lambda: "10.16", lambda: "13.6.1") == "13.6.1"
    assert det.macos_version("darwin", lambda: "10.16", lambda: None) == "10.16"
    assert det.macos_version("darwin", lambda: "", lambda: None) is None


def _fake_nvidia_smi(tmp_path, stdout: str, status: int = 0) -> str:
    if sys.platform == "win32":
        pytest.skip("a shell-script stand-in needs a POSIX shell")
    exe = tmp_path / "nvidia-smi"
    (tmp_path / "out.xml").write_text(stdout)
    exe.write_text(f"#!/bin/sh\ncat '{tmp_path / 'out.xml'}'\nexit {status}\n")
    exe.chmod(0o755)
    return str(exe)


def test_cuda_version_from_nvidia_smi(tmp_path) -> None:
    xml = "<nvidia_smi_log><driver_version>550.54</driver_version>\n<cuda_version>12.4</cuda_version></nvidia_smi_log>"
    assert det.cuda_version_from_nvidia_smi(_fake_nvidia_smi(tmp_path, xml)) == "12.4"


def test_nvidia_smi_failure_means_no_cuda(tmp_path) -> None:
    xml = "<cuda_version>12.4</cuda_version>"
    assert det.cuda_version_from_nvidia_smi(_fake_nvidia_smi(tmp_path, xml, status=9)) is None
    other = tmp_path / "other"
    other.mkdir()
    assert det.cuda_version_from_nvidia_smi(_fake_nvidia_smi(other, "<x/>")) is None
    assert det.cuda_version_from_nvidia_smi(str(tmp_path / "missing")) is None


def test_cuda_version_from_nvml(tmp_path) -> None:
    import shutil

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not sys.platform.startswith("linux"):
        pytest.skip("needs a C compiler on Linux to build a stand-in libnvidia-ml")
    src = tmp_path / "nvml.c"
    src.write_text(
        "int nvmlInit_v2(void) { return 0; }\n"
        "int nvmlShutdown(void) { return 0; }\n"
        "int nvmlSystemGetCudaDriverVersion_v2(int *v) { *v = 11080; return 0; }\n"
    )
    lib = tmp_path / "libnvidia-ml.so.1"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src)], check=True, timeout=60)
    assert det.cuda_version_from_nvml([str(lib)]) == "11.8"
    assert det.cuda_version_from_nvml(["libnothing-here.so"]) is None


def test_cuda_override_skips_the_driver_probe(monkeypatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(det, "detect_cuda", lambda: calls.append("probe") or "99.9")
    det.detect_host.cache_clear()
    try:
        got = {
            v.name: v.version
            for v in det.detect_virtual_packages(env={"CONDA_OVERRIDE_CUDA": "12.1"})
        }
        assert got["__cuda"] == "12.1" and calls == []
        got = {v.name: v.version for v in det.detect_virtual_packages(env={})}
        assert got["__cuda"] == "99.9" and calls == ["probe"]
    finally:
        det.detect_host.cache_clear()


@pytest.mark.parametrize(
    ("brand", "name"),
    [
        ("Apple M1", "m1"),
        ("Apple M2 Pro", "m2"),
        ("Apple M4 Max", "m4"),
        ("", "m1"),
        ("VirtualApple @ 2.50GHz", "m1"),
    ],
)
def test_apple_silicon_name(brand: str, name: str) -> None:
    assert det.apple_silicon_name(brand) == name
