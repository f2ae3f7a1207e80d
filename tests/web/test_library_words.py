"""The words a page shows for a check that refused a value (web/kind_words.toml, read by web/_library_words.py): one
entry for each kind the library raises, each translated, and what each names filled from the error's facts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from policykeeper._exceptions import BadValueError
from policykeeper.web._i18n import catalogue, gettext_for
from policykeeper.web._library_words import KIND_WORDS, problem_words

PACKAGE = Path(__file__).parents[2] / "src" / "policykeeper"


def _kinds_raised() -> set[str]:
    """Every ``kind`` the package's code gives a BadValueError it raises."""
    kinds: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "BadValueError":
                kinds.update(str(kw.value.value) for kw in node.keywords
                             if kw.arg == "kind" and isinstance(kw.value, ast.Constant))
    return kinds


def test_every_kind_the_library_raises_has_words_and_no_other() -> None:
    raised = _kinds_raised()
    assert "incident_closed" in raised and "version_label_taken" in raised  # the reading itself works
    assert raised == set(KIND_WORDS)


def test_every_kinds_words_have_a_simplified_chinese_translation() -> None:
    zh = catalogue("zh-Hans")
    missing = {kind: words for kind, words in KIND_WORDS.items() if words not in zh}
    assert not missing, f"no Chinese translation in web/locale/zh_Hans/LC_MESSAGES/*.po for: {missing}"


@pytest.mark.parametrize("language", ["zh-Hans", "en"])
def test_every_placeholder_of_the_words_is_filled(language: str) -> None:
    from policykeeper.web._library_words import _kind_words

    for kind, words in KIND_WORDS.items():
        said = _kind_words(gettext_for(language), BadValueError("refused", kind=kind))
        assert said is not None and "%(" not in said, kind
        if language == "en" and "%(" not in words:
            assert said == words


def test_a_chinese_page_says_the_kinds_words_with_the_facts_in_words() -> None:
    _ = gettext_for("zh-Hans")
    missing = BadValueError("incident 7 cannot close", kind="incident_steps_missing", incident=7,
                            missing=("auditing", "record_keeping"))
    assert problem_words(missing, _) == "事件 7 还不能关闭：以下步骤尚无记录：审计, 记录保存。"
    channel = BadValueError("no such channel", kind="notice_channel", channel="fax", channels=("email", "letter"))
    assert problem_words(channel, _) == "本政策没有为这类通知指定该渠道；它指定的是：电子邮件, 信件。"
    assert problem_words(BadValueError("no such kind", kind="not_a_kind"), _) == _(
        "That could not be done as asked, and nothing was changed: check what you entered and try again.")
    english = gettext_for("en")
    assert problem_words(missing, english) == "incident 7 cannot close"  # an English page: the library's own words
