"""Render: every section, every promise an anchor, silence said, HTML escaped, glossary linked."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from policykeeper import load_pack, parse_pack, render_pack
from policykeeper.pack import build_document

DATA = Path(__file__).parent.parent / "data"
BUNDLED = ["koso", "kalos", "konzen", "kokkok", "kamoer"]
SECTIONS = [
    "Who we are", "How to contact us", "Your acceptance and consent", "What we collect", "Kinds of data",
    "Why we use it", "Who we share it with", "Where it is stored and transferred", "How long we keep it",
    "Your rights and requests", "Children", "Security", "Security incidents", "Marketing",
    "Cookies and tracking", "Automated decisions", "Changes to this policy", "Advice for you",
    "Gaps in the policy text", "Promises",
]


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            if k == "id" and v:
                self.ids.append(v)
            if k == "href" and v:
                self.hrefs.append(v)


@pytest.mark.parametrize("name", BUNDLED)
def test_markdown_has_every_section_and_every_promise_anchor(name: str) -> None:
    pack = load_pack(name)
    md = render_pack(pack, "md")
    for title in SECTIONS:
        assert f"## {title}\n" in md
    for p in pack.promises:
        assert f'<a id="{p.id.lower()}"></a>**{p.id}**' in md
    # every rule reference points at an anchor that exists
    for target in re.findall(r"\]\(#([a-z0-9-]+)\)", md):
        assert f'id="{target}"' in md, target


@pytest.mark.parametrize("name", BUNDLED)
def test_html_ids_are_unique_and_every_link_resolves(name: str) -> None:
    pack = load_pack(name)
    parser = _Ids()
    parser.feed(render_pack(pack, "html"))
    assert len(parser.ids) == len(set(parser.ids))
    ids = set(parser.ids)
    for p in pack.promises:
        assert p.id.lower() in ids
    for href in parser.hrefs:
        assert href.startswith("#") and href[1:] in ids, href


def test_dates_are_at_the_top() -> None:
    md = render_pack(load_pack(DATA / "passing_full.yaml"), "md")
    head = md.split("## Contents")[0]
    assert "Updated Date: 2025-02-01" in head and "Effective date: 2025-03-01" in head


def test_silence_is_said_not_hidden() -> None:
    doc = build_document(load_pack(DATA / "passing_minimal.yaml"))
    children = next(s for s in doc.sections if s.title == "Children")
    assert [i.text for i in children.items] == ["The policy does not say."]


def test_html_escapes_pack_text() -> None:
    text = (DATA / "passing_minimal.yaml").read_text().replace(
        "statement: Registration requires an email address.", 'statement: "<script>alert(1)</script>"'
    )
    html = render_pack(parse_pack(text), "html")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_glossary_terms_link_to_their_explanation() -> None:
    pack = load_pack(DATA / "passing_full.yaml")
    html = render_pack(pack, "html")
    assert '<a class="term" href="#glossary-cookie">' in html
    assert 'id="glossary-cookie"' in html
    md = render_pack(pack, "md")
    assert "(#glossary-cookie)" in md
