"""The people's render (pack/_people*.py): a plain-language notice from every bundled pack, in English and Chinese."""

from __future__ import annotations

import html as htmllib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from typer.testing import CliRunner

from policykeeper import load_pack
from policykeeper.cli import app
from policykeeper.pack import _people, people_document, people_html, people_markdown
from policykeeper.pack._people_words import TABLES
from policykeeper.web._i18n import catalogue, gettext_for

BUNDLED = ["koso", "kalos", "konzen", "kokkok", "kamoer"]
_ID = re.compile(r"\b[A-Z][A-Z0-9]*-\d{2,}\b")
_SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


class _Page(HTMLParser):
    """The visible text of a fragment (the policy's own words section aside), and its ids and links."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self._skip = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if a.get("href"):
            self.hrefs.append(str(a["href"]))
        if a.get("id") == "words":
            self._skip = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._skip = False

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def _parts(name: str) -> tuple[str, _Page]:
    pack = load_pack(name)
    page = _Page()
    page.feed(people_html(people_document(pack)))
    return " ".join(page.text), page


@pytest.mark.parametrize("name", BUNDLED)
def test_the_notice_has_no_ids_no_keys_no_internal_notes_and_no_doubled_stops(name: str) -> None:
    pack = load_pack(name)
    text, _page = _parts(name)
    md = people_markdown(people_document(pack))
    md_text = re.sub(r"\]\(#[^)]*\)|<a id=\"[^\"]*\"></a>", "", md.split('<a id="words">')[0])
    for shown in (text, md_text):
        assert not _ID.findall(shown), f"{name}: promise ids shown to people: {_ID.findall(shown)[:5]}"
        snake = [w for w in _SNAKE.findall(shown) if not re.search(rf"\S*{w}\S*@|https?://\S*{w}", shown)]
        assert not snake, f"{name}: keys shown to people: {snake[:5]}"
        assert ".." not in shown.replace("...", ""), f"{name}: a doubled full stop"
        for issue in pack.source_issues:  # internal notes stay in the console
            assert issue.description not in shown
        assert "unspecified" not in shown and "calendar days" not in shown


@pytest.mark.parametrize("name", BUNDLED)
def test_each_expected_section_is_there_when_the_pack_has_its_data(name: str) -> None:
    pack = load_pack(name)
    _text, page = _parts(name)
    expected = {"who": True, "collect": True, "when": True, "rights": True, "changes": True, "contact": True,
                "share": bool(pack.recipients or pack.disclosures),
                "keep": (not isinstance(pack.retention, str) and bool(pack.retention))
                or not isinstance(pack.erasure, str) or not isinstance(pack.backups, str),
                "children": not isinstance(pack.minors, str),
                "transfers": (not isinstance(pack.storage, str) and not isinstance(pack.storage.home_regions, str))
                or (not isinstance(pack.transfers, str) and pack.transfers.cross_border != "unspecified")}
    for anchor, present in expected.items():
        assert (anchor in page.ids) == present, f"{name}: section {anchor} {'missing' if present else 'shown'}"
        assert (f"#{anchor}" in page.hrefs) == present  # the table of contents links every section


@pytest.mark.parametrize("name", BUNDLED)
def test_every_promise_keeps_an_anchor_and_every_link_lands(name: str) -> None:
    pack = load_pack(name)
    _text, page = _parts(name)
    for p in pack.promises:  # /policy#kamoer-50 still lands on the promise, in the policy's own words
        assert p.id.lower() in page.ids
    targets = {h[1:] for h in page.hrefs if h.startswith("#")}
    assert targets <= set(page.ids), targets - set(page.ids)
    linked = {h for h in targets if _ID.fullmatch(h.upper())}
    assert len(linked) >= len(pack.promises) // 2  # most promises are reached from the point that keeps them


def test_durations_and_deadlines_are_in_words() -> None:
    kokkok, _ = _parts("kokkok")
    assert "at least 7 working days before a change takes effect" in kokkok
    assert "within the time the law sets, counted from when we have checked it is you" in kokkok
    kamoer, _ = _parts("kamoer")
    assert "For children under 14, a parent or guardian must agree" in kamoer
    assert "If a security breach puts your data at risk, we tell you promptly." in kamoer
    kalos, _ = _parts("kalos")  # any one of its conditions opens a transfer: "or", not "and"
    assert "We send your data abroad only when you agree or the data no longer identifies you." in kalos
    assert "We answer a request about your data within 30 days." in kalos


def test_every_sentence_of_ours_has_a_chinese_translation() -> None:
    modules = sorted(Path(_people.__file__).parent.glob("_people*.py"))
    assert len(modules) >= 4  # _people and the modules it is split into
    found = {m for module in modules for _l, m, _c, _x in extract_from_file("python", module, keywords={"_": None})}
    for table in TABLES:
        found |= set(table.values())
    assert len(found) > 250
    zh = catalogue("zh-Hans")
    assert not sorted(found - set(zh)), sorted(found - set(zh))[:10]


@pytest.mark.parametrize("name", BUNDLED)
def test_in_chinese_only_the_packs_own_texts_stay_english(name: str) -> None:
    pack = load_pack(name)
    fragment = people_html(people_document(pack), gettext_for("zh-Hans"), "zh-Hans")
    assert '<h1>' in fragment and "个人数据" in fragment
    ours = re.sub(r'<(span|ul) lang="en">.*?</\1>', "", fragment, flags=re.S)
    ours = htmllib.unescape(re.sub(r"<[^>]+>", " ", ours))
    english = re.findall(r"[A-Za-z]{3,}(?:\s+[A-Za-z]{2,})+", ours)
    assert not english, english[:5]


def test_pack_render_people_on_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    md = runner.invoke(app, ["pack", "render", "kokkok", "--people"])
    assert md.exit_code == 0, md.output
    assert md.output.startswith("# How KOKKOK Car uses your personal data")
    assert "## Your rights and how to use them" in md.output and "KOKKOK-" not in md.output.split('<a id="words">')[0]
    out = tmp_path / "notice.html"
    page = runner.invoke(app, ["pack", "render", "kamoer", "--people", "--format", "html", "-o", str(out)])
    assert page.exit_code == 0, page.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and '<section id="rights"' in text and 'id="kamoer-50"' in text
    full = runner.invoke(app, ["pack", "render", "kamoer"])  # today's full record is unchanged beside it
    assert "Gaps in the policy text" in full.output and "Gaps in the policy text" not in text
