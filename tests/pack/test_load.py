"""Loading packs: passing fixtures load, failing ones fail at the exact place they say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policykeeper import PackError, PackNotFoundError, load_pack, parse_pack
from policykeeper.pack import Pack

DATA = Path(__file__).parent.parent / "data"
PASSING = sorted(DATA.glob("passing_*.yaml"))
FAILING = sorted(DATA.glob("failing_*.yaml"))
_EXPECT = re.compile(r"^# expect: (\d+):(\d+) (\S*) \| (.+)$", re.MULTILINE)


@pytest.mark.parametrize("path", PASSING, ids=lambda p: p.stem)
def test_passing_fixture_loads(path: Path) -> None:
    pack = load_pack(path)
    assert isinstance(pack, Pack)


@pytest.mark.parametrize("path", FAILING, ids=lambda p: p.stem)
def test_failing_fixture_reports_exact_location(path: Path) -> None:
    expected = [(int(li), int(co), key, msg) for li, co, key, msg in _EXPECT.findall(path.read_text())]
    assert expected, f"{path.name} has no '# expect:' line"
    with pytest.raises(PackError) as info:
        load_pack(path)
    got = [(i.line, i.column, i.path, i.message) for i in info.value.issues]
    assert [g[:3] for g in got] == [e[:3] for e in expected], got
    for (_, _, _, message), (_, _, _, fragment) in zip(got, expected, strict=True):
        assert fragment in message
    for issue in info.value.issues:
        assert issue.file == str(path)
        assert str(path) in str(issue)


def test_there_are_enough_fixtures() -> None:
    assert len(PASSING) >= 2 and len(FAILING) >= 10


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PackNotFoundError, match="no such file"):
        load_pack(tmp_path / "nope.yaml")


def test_unknown_bundled_name_lists_the_bundled_packs() -> None:
    with pytest.raises(PackNotFoundError, match="bundled packs: kalos, kamoer, kokkok, konzen, koso"):
        load_pack("nope")


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackNotFoundError, match="is a directory"):
        load_pack(tmp_path)


def test_empty_file_is_refused() -> None:
    with pytest.raises(PackError, match="empty"):
        parse_pack("", "empty.yaml")


def test_huge_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * (3 * 1024 * 1024))
    with pytest.raises(PackError, match="larger than"):
        load_pack(big)


def test_binary_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PackError, match="not UTF-8"):
        load_pack(bad)


def test_loaded_pack_is_frozen(minimal_text: str) -> None:
    pack = parse_pack(minimal_text)
    with pytest.raises(Exception, match="frozen"):
        pack.id = "other"  # type: ignore[misc]


def test_unspecified_is_distinct_from_false(minimal_text: str) -> None:
    pack = parse_pack(minimal_text)
    assert pack.minors == "unspecified"
    assert pack.changes.advance_notice == "none"


def test_errors_are_all_reported_not_just_the_first(minimal_text: str) -> None:
    text = minimal_text.replace("legal_basis: contract", "legal_basis: nope").replace(
        "requirement: essential", "requirement: maybe"
    )
    with pytest.raises(PackError) as info:
        parse_pack(text, "two.yaml")
    paths = {i.path for i in info.value.issues}
    assert paths == {"purposes.items[0].legal_basis", "collection.contexts[0].fields[0].requirement"}


def test_a_union_value_gets_one_issue_naming_every_accepted_form(minimal_text: str) -> None:
    with pytest.raises(PackError) as info:
        parse_pack(minimal_text.replace("effective_date: unspecified", "effective_date: someday"), "u.yaml")
    [issue] = info.value.issues
    assert (issue.line, issue.path) == (10, "version.effective_date")
    assert "valid date" in issue.message and "'unspecified'" in issue.message


def test_a_failing_list_item_is_not_also_reported_as_the_unspecified_branch(minimal_text: str) -> None:
    text = minimal_text.replace(
        "security: unspecified", "security:\n  - {id: tls, kind: https, scope: web, Kamoer Mall and apps}"
    )
    with pytest.raises(PackError) as info:
        parse_pack(text, "s.yaml")
    assert [i.path for i in info.value.issues] == ["security[0].Kamoer Mall and apps"]


def test_control_characters_are_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(PackError) as info:
        parse_pack("\x1f", "x.yaml")
    assert info.value.code == "pack_syntax" and "not valid YAML" in str(info.value)


def _alias_bomb(levels: int) -> str:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, levels + 1):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _refused_fast(text: str, words: str) -> PackError:
    import time

    start = time.monotonic()
    with pytest.raises(PackError) as info:
        parse_pack(text)
    assert time.monotonic() - start < 3, "refusing took too long"
    assert len(info.value.issues) <= 50
    assert any(words in issue.message for issue in info.value.issues), info.value.issues
    return info.value


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    bomb = _alias_bomb(8)
    assert len(bomb) < 400  # a few hundred bytes standing for 9**9 values
    _refused_fast(bomb, "aliases counted as the copies they stand for")


def test_too_many_aliases_are_refused() -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * 150) + "]\n"
    _refused_fast(text, "more than 100 aliases")


def test_twenty_thousand_keys_are_refused_fast() -> None:
    _refused_fast("id: x\n" + "".join(f"k{i}: 1\n" for i in range(20_000)), "more than 25000 values")


def test_deep_nesting_is_a_clear_error_not_a_recursion_error() -> None:
    for text in ("a: " + "[" * 50_000 + "]" * 50_000, "a: " + "[" * 60 + "]" * 60,
                 "a:\n" + "".join("  " * i + "- \n" for i in range(200))):
        error = _refused_fast(text, "nest")
        assert error.code == "pack_syntax"


def test_many_problems_are_reported_up_to_a_limit(minimal_text: str) -> None:
    text = minimal_text + "".join(f"unknown_{i}: 1\n" for i in range(3_000))
    error = _refused_fast(text, "unknown key")
    assert len(error.issues) == 50 and "more problems not listed" in error.issues[-1].message


def test_a_pack_larger_than_the_limit_is_refused_as_text() -> None:
    _refused_fast("# " + "x" * (2 * 1024 * 1024) + "\n", "larger than")
