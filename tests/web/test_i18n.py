"""The pages' languages (web/_i18n.py): how one is chosen, and that every marked string has its Chinese translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from policykeeper.web import _i18n
from policykeeper.web._i18n import catalogue, choose, gettext_for, html_gettext_for, parse_accept_language

from .conftest import Web

PACKAGE = Path(_i18n.__file__).parent.parent


def _marked() -> dict[str, str]:
    """Every string marked for translation in the pages' templates and the package's Python (the pages, and the
    mails and notices the services write in the person's language): text -> where."""
    found: dict[str, str] = {}
    method_map = [("web/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                                         "lstrip_blocks": "true", "newstyle_gettext": "true"}}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map=method_map, options_map=options, keywords={"_": None, "gettext": None,
                                                                            "ngettext": (1, 2)}):
        for text in (message if isinstance(message, tuple) else (message,)):
            if text:
                found.setdefault(text, f"{filename}:{lineno}")
    return found


def test_every_marked_string_has_a_simplified_chinese_translation() -> None:
    marked = _marked()
    assert "Skip to content" in marked and "Privacy center" in marked  # the extraction itself works
    assert "Your privacy request %(ref)s: your code" in marked  # and reaches the services' mails
    zh = catalogue("zh-Hans")
    missing = {text: where for text, where in marked.items() if text not in zh}
    assert not missing, f"no Chinese translation in web/locale/zh_Hans/LC_MESSAGES/*.po for: {missing}"


def test_translations_keep_their_placeholders() -> None:
    """A translation that drops or renames a %(name)s placeholder would fail (or lose a value) when shown."""
    import re

    zh = catalogue("zh-Hans")
    for text, translated in zh.items():
        assert sorted(re.findall(r"%\(\w+\)s", text)) == sorted(re.findall(r"%\(\w+\)s", translated)), text


@pytest.mark.parametrize(("query", "cookie", "header", "expected"), [
    (None, None, None, "en"),
    (None, None, "zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"),
    (None, None, "en-GB,en;q=0.9,zh-CN;q=0.8", "en"),
    (None, None, "fr-FR, zh;q=0.5", "zh-Hans"),
    (None, None, "zh-TW", "en"),  # traditional characters: not Simplified Chinese
    (None, None, "zh-Hant-HK, zh-Hans;q=0.4", "zh-Hans"),
    (None, None, "zh-CN;q=0, en;q=0.1", "en"),
    (None, None, "de, fr", "en"),
    (None, None, "zh-CN;q=banana", "en"),
    (None, "zh-Hans", "en", "zh-Hans"),  # the switch's cookie beats the browser
    ("en", "zh-Hans", "zh-CN", "en"),  # and ?lang= beats both
    ("klingon", None, "zh-CN", "zh-Hans"),  # an unknown ?lang= is ignored
])
def test_the_language_is_chosen_by_query_then_cookie_then_browser(
        query: str | None, cookie: str | None, header: str | None, expected: str) -> None:
    assert choose(query, cookie, header) == expected


def test_accept_language_is_bounded_and_tolerant() -> None:
    assert parse_accept_language("x;q=1," * 10_000 + "zh-CN") is None  # only the first 32 ranges are read
    assert parse_accept_language(";;;,,,=") is None


def test_gettext_fills_values_and_escapes_them_in_pages() -> None:
    text = "Policy version %(label)s · enforced by policykeeper"
    assert gettext_for("zh-Hans")(text, label="v2") == "政策版本 v2 · 由 policykeeper 执行"
    assert gettext_for("en")(text, label="v2") == "Policy version v2 · enforced by policykeeper"
    assert gettext_for("zh-Hans")("a text nobody translated") == "a text nobody translated"
    html = html_gettext_for("en")(text, label="<script>")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_page_follows_the_browser_and_the_switch(web: Web) -> None:
    client = web.client
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="zh-Hans">' in page.text and "隐私中心" in page.text and "跳到正文" in page.text
    assert page.headers["content-language"] == "zh-Hans"
    english = client.get("/?lang=en", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in english.text and "Privacy center" in english.text
    assert english.cookies.get("pk_lang") == "en" or "pk_lang=en" in english.headers.get("set-cookie", "")
    after = client.get("/", headers={"Accept-Language": "zh-CN"})  # the cookie the switch set is kept
    assert '<html lang="en">' in after.text
    switch = client.get("/?lang=zh-Hans")
    assert 'aria-current="true">简体中文' in switch.text and 'href="?lang=en"' in switch.text
