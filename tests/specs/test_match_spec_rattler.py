"""MatchSpec against py-rattler: every spec of the repodata corpus, and generated ones.

Each spec is matched against every record of the same name in the same channel, by naja and by
rattler, and the answers must agree.
"""

from __future__ import annotations

import collections
from functools import cache

import pytest

from naja.specs.match_spec import MatchSpec
from naja.specs.repodata import load_repodata
from naja.specs.version_spec import VersionSpec
from tests.conftest import REPODATA

rattler = pytest.importorskip("rattler")


@cache
def corpus():
    """channel -> (records by name as (naja, rattler) pairs, distinct dependency specs)."""
    out = {}
    for path in sorted(REPODATA.glob("*/*/repodata.json")):
        channel, subdir = path.parent.parent.name, path.parent.name
        ours = load_repodata(path.read_bytes(), channel=channel, subdir=subdir)
        theirs = {
            r.file_name: r
            for r in rattler.SparseRepoData(
                rattler.Channel(channel), subdir, str(path)
            ).load_all_records()
        }
        by_name, specs = out.setdefault(channel, (collections.defaultdict(list), set()))
        for r in ours:
            by_name[r.name].append((r, theirs[r.fn]))
            specs.update(r.depends)
            specs.update(r.constrains)
    return out


def _compare(spec_texts, by_name, *, strict=False):
    pairs = agree = 0
    disagreements = []
    for text in spec_texts:
        ours = MatchSpec.parse(text)
        try:
            theirs = rattler.MatchSpec(text, strict=strict)
        except Exception:
            assert strict, text
            continue
        for o, t in by_name.get(ours.name, ()):
            pairs += 1
            a, b = ours.matches(o), theirs.matches(t)
            if a == b:
                agree += 1
            else:
                disagreements.append((text, o.fn, a, b))
    return pairs, agree, disagreements


def test_corpus_specs_parse_like_rattler():
    texts = set().union(*(specs for _, specs in corpus().values()))
    assert len(texts) > 3000
    versions = collections.defaultdict(set)
    for by_name, _ in corpus().values():
        for name, recs in by_name.items():
            versions[name].update(r.parsed_version for r, _ in recs)
    strict_ok = 0
    for text in sorted(texts):
        ours = MatchSpec.parse(text)
        theirs = rattler.MatchSpec(text)
        assert ours.name == theirs.name.normalized, text
        assert (ours.version is None) == (theirs.version is None), text
        if ours.version is not None:
            # rattler spells exact versions "==1.2" and fuzzy ones "1.2.*"; read back by naja,
            # its version spec must select the same versions of the package as ours.
            again = VersionSpec.parse(str(theirs.version))
            for v in versions.get(ours.name, ()):
                assert again.matches(v) == ours.version.matches(v), (text, v)
        assert (ours.build is None) == (theirs.build is None), text
        try:
            strict = rattler.MatchSpec(text, strict=True)
        except Exception:
            continue
        strict_ok += 1
        assert ours.name == strict.name.normalized
    assert strict_ok > 2000


def test_corpus_specs_match_like_rattler():
    total = agreed = 0
    for by_name, specs in corpus().values():
        pairs, agree, disagreements = _compare(sorted(specs), by_name)
        assert not disagreements[:20]
        total += pairs
        agreed += agree
    assert total > 80_000
    assert agreed == total


def test_canonical_strings_read_by_rattler_select_the_same_records():
    # naja prints conda's canonical form ("numpy[version='>=1.2']"); rattler must read it back to
    # a spec that selects the same records as the original string.
    total = agreed = 0
    for by_name, specs in corpus().values():
        canonical = sorted({str(MatchSpec.parse(t)) for t in specs})
        pairs, agree, disagreements = _compare(canonical, by_name)
        assert not disagreements[:20]
        total += pairs
        agreed += agree
    assert total > 80_000
    assert agreed == total


def test_corpus_specs_match_like_rattler_strict():
    # Strict mode rejects conda's ambiguous forms ("numpy 1.2"); where it accepts a spec, it
    # must select the same records as naja's conda reading.
    total = agreed = 0
    for by_name, specs in corpus().values():
        pairs, agree, disagreements = _compare(sorted(specs), by_name, strict=True)
        assert not disagreements[:20]
        total += pairs
        agreed += agree
    assert total > 40_000
    assert agreed == total


def _generated_specs(by_name):
    for name, recs in sorted(by_name.items()):
        versions = sorted({r.version for r, _ in recs})
        picks = {versions[0], versions[len(versions) // 2], versions[-1]}
        builds = sorted({r.build for r, _ in recs})
        build = builds[len(builds) // 2]
        for v in sorted(picks):
            hi = versions[-1]
            yield from (
                f"{name} {v}",
                f"{name}={v}",
                f"{name}=={v}",
                f"{name} >={v}",
                f"{name} >{v}",
                f"{name} <{v}",
                f"{name} <={v}",
                f"{name} !={v}",
                f"{name} {v}.*",
                f"{name} >={v},<{hi}",
                f"{name} {v}|{hi}",
                f"{name} {v} {build}",
                f"{name}={v}={build}",
                f"{name}[version='>={v}',build={build}]",
                f"{name}[version='<{hi}', build_number='>=1']",
            )
        features = sorted({f for r, _ in recs for f in r.track_features})
        for feature in features[:2]:
            yield f"{name}[track_features={feature}]"
            yield f"{name}[track_features='{feature} other']"
        yield f"{name} * {build[:2]}*"
        yield f"{name}[build_number=0]"
        yield f"{name}[build='*_1']"


def test_generated_specs_match_like_rattler():
    by_name = corpus()["index4"][0]
    texts = []
    for text in _generated_specs(by_name):
        try:
            rattler.MatchSpec(text)
        except Exception:
            continue
        texts.append(text)
    pairs, agree, disagreements = _compare(texts, by_name)
    assert pairs > 200_000
    assert not disagreements[:20]
    assert agree == pairs


def test_package_urls_of_the_lockfile_corpus():
    import re

    from tests.conftest import SHARED

    pattern = re.compile(r"https?://[^\s\"'#]+\.(?:conda|tar\.bz2)(?:#[0-9a-f]{32})?")
    urls = set()
    for path in (SHARED / "corpora" / "lockfiles").rglob("*"):
        if path.is_file():
            urls.update(pattern.findall(path.read_text(errors="replace")))
    assert len(urls) > 3000
    for url in sorted(urls):
        ours = MatchSpec.from_url(url)
        theirs = rattler.MatchSpec.from_url(url)
        base = url.partition("#")[0]
        fn = base.rsplit("/", 1)[1]
        name, version, build = fn.removesuffix(".conda").removesuffix(".tar.bz2").rsplit("-", 2)
        assert ours.name == theirs.name.normalized == name.lower()
        assert (ours.fn, ours.url, str(ours.build)) == (fn, base, build)
        assert ours.version is not None and ours.version.matches(version)
        assert ours.md5 == (theirs.md5.hex() if theirs.md5 else None)
        assert ours.subdir == base.rsplit("/", 2)[1]
        assert MatchSpec.parse(url) == MatchSpec.from_url(base)


def test_fast_path_agrees_with_full_parser_on_corpus():
    from naja.specs import match_spec

    texts = set().union(*(specs for _, specs in corpus().values()))
    fast_count = 0
    for text in sorted(texts):
        fast = match_spec._parse_fast(text)
        if fast is not None:
            fast_count += 1
            assert fast == match_spec._parse(text), text
    assert fast_count > 0.9 * len(texts)
