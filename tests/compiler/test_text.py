"""Reading and segmenting: offsets into the normalised text, headings and lists kept, awkward sentences cut well."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from policykeeper._exceptions import BadValueError
from policykeeper.compiler import normalise, read_policy, segment
from policykeeper.compiler._text import MAX_QUOTE

from ..conftest import REPO

SEEDS = REPO / "bench" / "seeds"
NAMES = ("koso", "kalos", "konzen", "kokkok", "kamoer")


@pytest.mark.parametrize("name", NAMES)
def test_every_sentence_of_each_seed_sits_verbatim_at_its_offsets(name: str) -> None:
    text = read_policy(str(SEEDS / f"{name}.txt")).text
    blocks, sentences = segment(text)
    assert blocks and sentences
    for s in sentences:
        assert text[s.start:s.end] == s.text
        assert 0 < len(s.text) <= MAX_QUOTE
        assert "\n" not in s.text


def test_headings_and_list_items_are_kept() -> None:
    text = normalise("1. Information We Collect\n· Personal information: your email.\n· Location: GPS.\nWe store it.")
    blocks, _ = segment(text)
    assert [b.kind for b in blocks] == ["heading", "item", "item", "paragraph"]
    assert blocks[1].heading == "Information We Collect"


def test_numbered_list_markers_are_not_sentences_and_abbreviations_do_not_split() -> None:
    text = normalise("1. We collect your email, e.g. when you register with Acme Co., Ltd. on the site. We keep it.")
    _, sentences = segment(text)
    assert [s.text for s in sentences] == [
        "We collect your email, e.g. when you register with Acme Co., Ltd. on the site.", "We keep it."]


def test_chinese_punctuation_and_long_clauses_split() -> None:
    text = normalise("我们会保护您的信息。We will protect your personal information with care at all times；and we will "
                     "not sell it to anyone at all, whatever happens to the company in the future; ok.")
    _, sentences = segment(text)
    assert sentences[0].text == "我们会保护您的信息。"
    assert sentences[1].text == "We will protect your personal information with care at all times；"
    assert sentences[2].text.endswith("in the future; ok.")  # a short clause stays with its sentence


def test_a_run_on_legal_sentence_is_cut_at_clause_boundaries_within_the_quote_limit() -> None:
    clause = "we may share your personal information with our affiliates and service providers"
    text = normalise(", ".join([clause] * 12) + ".")
    _, sentences = segment(text)
    assert len(sentences) > 1
    assert all(len(s.text) <= MAX_QUOTE and text[s.start:s.end] == s.text for s in sentences)


def test_html_input_keeps_headings_and_list_items_and_drops_scripts(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text("<html><head><style>p{}</style></head><body><h2>Your rights</h2><script>x=1</script>"
                    "<ul><li>You can <b>access</b> your data.</li><li>You can delete it.</li></ul></body></html>")
    src = read_policy(str(page))
    assert src.format == "html"
    assert src.text == "Your rights\nYou can access your data.\nYou can delete it."
    blocks, _ = segment(src.text, src.heading_lines)
    assert [b.kind for b in blocks] == ["heading", "paragraph", "paragraph"]


def test_markdown_input_strips_marks(tmp_path: Path) -> None:
    md = tmp_path / "p.md"
    md.write_text("# Privacy\n\n- We **never** sell [your data](https://x.example).\n")
    assert read_policy(str(md)).text == "Privacy\nWe never sell your data."


def test_control_characters_are_dropped_so_the_draft_stays_valid_yaml() -> None:
    assert normalise("We keep\x07 logs\x00 for 30\u2028days.\x85Done.") == "We keep logs for 30 days.\nDone."


def test_dash_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("We keep logs for 30 days.\n"))
    src = read_policy("-")
    assert src.name == "stdin" and src.text == "We keep logs for 30 days."


def test_bad_input_is_refused_with_the_file_named(tmp_path: Path) -> None:
    with pytest.raises(BadValueError, match="no such policy file"):
        read_policy(str(tmp_path / "missing.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n")
    with pytest.raises(BadValueError, match="no text"):
        read_policy(str(empty))
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(BadValueError, match="not UTF-8"):
        read_policy(str(binary))
