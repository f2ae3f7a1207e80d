"""The five bundled packs: each checks clean and encodes every promise of its policy."""

from __future__ import annotations

import re

import pytest

from policykeeper import bundled_pack_names, coverage, load_pack

from ..conftest import PACK_PROMISE_COUNTS, SHARED


def test_the_five_packs_are_bundled() -> None:
    assert bundled_pack_names() == sorted(PACK_PROMISE_COUNTS)


@pytest.mark.parametrize(("name", "count"), sorted(PACK_PROMISE_COUNTS.items()))
def test_every_promise_is_declared_and_encoded(name: str, count: int) -> None:
    pack = load_pack(name)
    cov = coverage(pack)
    assert cov.total == count
    assert cov.missing == ()
    assert cov.summary() == f"promises: {count}/{count} encoded"
    prefix = pack.promise_prefix
    assert [p.id for p in pack.promises] == [f"{prefix}-{i:02d}" for i in range(1, count + 1)]


def _catalogue() -> dict[str, tuple[str, str]]:
    """ID -> (tag, quote) from the promise catalogue, when it sits beside the repository."""
    path = SHARED / "PROMISES.md"
    if not path.exists():  # the product never depends on it; this is a cross-check for developers and CI
        pytest.skip("promise catalogue not present")
    text = path.read_text(encoding="utf-8")
    rx = re.compile(r"\*\*([A-Z]+-\d+)\*\* `\[([a-z-]+)\]`.*?\n\s+- Quote: \"(.*?)\"\n", re.DOTALL)
    return {pid: (tag, quote) for pid, tag, quote in rx.findall(text)}


@pytest.mark.parametrize("name", sorted(PACK_PROMISE_COUNTS))
def test_promises_match_the_catalogue(name: str) -> None:
    catalogue = _catalogue()
    pack = load_pack(name)
    for p in pack.promises:
        tag, quote = catalogue[p.id]
        assert p.tag == tag, p.id
        assert p.quote == quote, p.id


@pytest.mark.parametrize("name", sorted(PACK_PROMISE_COUNTS))
def test_quotes_are_in_the_seed(name: str) -> None:
    seed = SHARED / "seeds" / f"{name}.txt"
    if not seed.exists():
        pytest.skip("seed not present")
    # Line breaks count as spaces; the seeds' flattened tables run cells together, so compare without spaces.
    text = re.sub(r"\s+", "", seed.read_text(encoding="utf-8"))
    for p in load_pack(name).promises:
        assert re.sub(r"\s+", "", p.quote) in text, p.id
