"""Conda semantics on small hand-made channels: preferences, jobs, pins, priorities."""

from __future__ import annotations

import pytest

from naja.solve import ListSource, SolveRequest, Unsatisfiable, solve
from naja.specs.records import PackageRecord


def rec(name: str, version: str, build: str = "0", channel: str = "main", **kw) -> PackageRecord:
    return PackageRecord(
        name=name,
        version=version,
        build=build,
        channel=channel,
        fn=f"{name}-{version}-{build}.tar.bz2",
        subdir="linux-64",
        **kw,
    )


def picked(solution) -> dict[str, str]:
    return {r.name: r.version for r in solution.records}


def builds(solution) -> dict[str, str]:
    return {r.name: r.build for r in solution.records}


MAIN = [
    rec("python", "3.10.1", depends=["openssl >=3"]),
    rec("python", "3.11.2", depends=["openssl >=3"]),
    rec("python", "3.12.0", depends=["openssl >=3"]),
    rec("openssl", "3.0.1"),
    rec("openssl", "3.1.0"),
    rec("numpy", "1.24.0", "py310", depends=["python 3.10.*"]),
    rec("numpy", "1.26.0", "py311", depends=["python 3.11.*"]),
    rec("numpy", "1.26.0", "py312", depends=["python 3.12.*"]),
    rec("numpy", "2.0.0", "py312", depends=["python 3.12.*"], constrains=["scipy >=1.13"]),
    rec("scipy", "1.11.0", depends=["numpy <2", "python"]),
    rec("scipy", "1.13.0", depends=["numpy", "python"]),
]


def test_highest_versions_and_one_record_per_name() -> None:
    sol = solve(SolveRequest(specs=["numpy"], channels=[MAIN]))
    assert picked(sol) == {"numpy": "2.0.0", "python": "3.12.0", "openssl": "3.1.0"}


def test_requested_spec_drives_dependencies() -> None:
    sol = solve(SolveRequest(specs=["numpy", "python 3.11.*"], channels=[MAIN]))
    assert picked(sol)["numpy"] == "1.26.0"
    assert builds(sol)["numpy"] == "py311"


def test_constrains_apply_only_when_the_name_is_installed() -> None:
    sol = solve(SolveRequest(specs=["numpy", "scipy <1.12"], channels=[MAIN]))
    # numpy 2 constrains scipy >=1.13 and scipy 1.11 needs numpy <2: numpy must step down.
    assert picked(sol)["numpy"] == "1.26.0"
    assert picked(sol)["scipy"] == "1.11.0"


def test_track_features_are_deprioritised() -> None:
    chan = [
        rec("blas", "1.0", "mkl", build_number=0),
        rec("blas", "1.0", "openblas", build_number=1, track_features=("nomkl",)),
    ]
    sol = solve(SolveRequest(specs=["blas"], channels=[chan]))
    assert builds(sol) == {"blas": "mkl"}
    sol = solve(SolveRequest(specs=["blas=*=openblas"], channels=[chan]))
    assert builds(sol) == {"blas": "openblas"}


def test_build_number_then_timestamp_break_ties() -> None:
    chan = [
        rec("a", "1.0", "b1", build_number=1, timestamp=10),
        rec("a", "1.0", "b2", build_number=2, timestamp=5),
        rec("a", "1.0", "b3", build_number=2, timestamp=20),
    ]
    assert builds(solve(SolveRequest(specs=["a"], channels=[chan]))) == {"a": "b3"}


def test_virtual_packages_are_installed_only_candidates() -> None:
    chan = [rec("cudatk", "12.0", depends=["__cuda >=12"]), rec("cudatk", "11.0")]
    sol = solve(SolveRequest(specs=["cudatk"], channels=[chan], virtual_packages=["__cuda=12.2=0"]))
    assert picked(sol) == {"cudatk": "12.0"}  # virtual packages are not linked
    sol = solve(SolveRequest(specs=["cudatk"], channels=[chan]))
    assert picked(sol) == {"cudatk": "11.0"}
    with pytest.raises(Unsatisfiable) as err:
        solve(SolveRequest(specs=["cudatk 12"], channels=[chan], virtual_packages=["__cuda=11.8"]))
    assert "CONDA_OVERRIDE_CUDA" in err.value.explanation


def test_strict_priority_hides_lower_channels_flexible_and_disabled_do_not() -> None:
    high = [rec("pkg", "1.0", channel="high")]
    low = [rec("pkg", "2.0", channel="low")]
    req = SolveRequest(specs=["pkg"], channels=[high, low])
    assert picked(solve(req)) == {"pkg": "1.0"}
    req.channel_priority = "flexible"
    assert picked(solve(req)) == {"pkg": "1.0"}
    req.specs = ["pkg >=2"]
    assert picked(solve(req)) == {"pkg": "2.0"}  # flexible: lower channel still usable
    req.channel_priority = "strict"
    with pytest.raises(Unsatisfiable):
        solve(req)
    req.specs = ["pkg"]
    req.channel_priority = "disabled"
    assert picked(solve(req)) == {"pkg": "2.0"}


def test_installed_packages_are_kept_unless_the_request_needs_a_change() -> None:
    installed = [rec("python", "3.11.2"), rec("openssl", "3.0.1")]
    sol = solve(SolveRequest(specs=["numpy"], channels=[MAIN], installed=installed))
    assert picked(sol) == {"numpy": "1.26.0", "python": "3.11.2", "openssl": "3.0.1"}
    assert [r.name for r in sol.to_link] == ["numpy"]
    assert sol.to_unlink == []
    # The request needs python 3.12: python changes, openssl stays.
    sol = solve(SolveRequest(specs=["numpy >=2"], channels=[MAIN], installed=installed))
    assert picked(sol) == {"numpy": "2.0.0", "python": "3.12.0", "openssl": "3.0.1"}
    assert {r.version for r in sol.to_unlink} == {"3.11.2"}


def test_update_and_update_all() -> None:
    installed = [rec("python", "3.11.2"), rec("openssl", "3.0.1")]
    sol = solve(SolveRequest(specs=["openssl"], channels=[MAIN], installed=installed, job="update"))
    assert picked(sol) == {"python": "3.11.2", "openssl": "3.1.0"}
    sol = solve(SolveRequest(specs=[], channels=[MAIN], installed=installed, update_all=True))
    assert picked(sol) == {"python": "3.12.0", "openssl": "3.1.0"}


def test_installed_record_missing_from_the_channels_stays() -> None:
    installed = [rec("local-tool", "0.1", channel="local")]
    sol = solve(SolveRequest(specs=["openssl"], channels=[MAIN], installed=installed))
    assert picked(sol) == {"openssl": "3.1.0", "local-tool": "0.1"}
    assert sol.to_unlink == []


def test_remove_drops_dependents() -> None:
    installed = [rec("python", "3.11.2"), rec("openssl", "3.0.1"), rec("numpy", "1.26.0", "py311")]
    sol = solve(SolveRequest(specs=["python"], channels=[MAIN], installed=installed, job="remove"))
    assert picked(sol) == {"openssl": "3.0.1"}
    assert {r.name for r in sol.to_unlink} == {"python", "numpy"}


def test_pins_restrict_without_installing() -> None:
    sol = solve(SolveRequest(specs=["numpy"], channels=[MAIN], pins=["python 3.11.*"]))
    assert picked(sol)["python"] == "3.11.2"
    sol = solve(SolveRequest(specs=["openssl"], channels=[MAIN], pins=["python 3.11.*"]))
    assert picked(sol) == {"openssl": "3.1.0"}
    with pytest.raises(Unsatisfiable) as err:
        solve(SolveRequest(specs=["numpy >=2"], channels=[MAIN], pins=["python 3.11.*"]))
    assert "pinned" in err.value.explanation


def test_no_deps_and_only_deps() -> None:
    sol = solve(SolveRequest(specs=["numpy"], channels=[MAIN], no_deps=True))
    assert picked(sol) == {"numpy": "2.0.0"}
    sol = solve(SolveRequest(specs=["numpy"], channels=[MAIN], only_deps=True))
    assert picked(sol) == {"python": "3.12.0", "openssl": "3.1.0"}


def test_force_reinstall_relinks_requested_packages() -> None:
    installed = [rec("openssl", "3.1.0")]
    sol = solve(SolveRequest(specs=["openssl"], channels=[MAIN], installed=installed))
    assert sol.to_link == [] and sol.to_unlink == []
    sol = solve(
        SolveRequest(specs=["openssl"], channels=[MAIN], installed=installed, force_reinstall=True)
    )
    assert [r.name for r in sol.to_link] == ["openssl"]
    assert [r.name for r in sol.to_unlink] == ["openssl"]


def test_record_source_is_asked_only_for_reachable_names() -> None:
    asked: list[str] = []

    class Spy(ListSource):
        def by_name(self, name: str):
            asked.append(name)
            return super().by_name(name)

    solve(SolveRequest(specs=["openssl"], channels=[Spy(MAIN)]))
    assert set(asked) == {"openssl"}
    asked.clear()
    solve(SolveRequest(specs=["python 3.11.*"], channels=[Spy(MAIN)]))
    assert set(asked) == {"python", "openssl"}


def test_match_spec_objects_are_accepted() -> None:
    from naja.specs.match_spec import MatchSpec

    sol = solve(SolveRequest(specs=[MatchSpec.parse("python 3.10.*")], channels=[MAIN]))
    assert picked(sol)["python"] == "3.10.1"
