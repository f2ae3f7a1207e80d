"""Read a policy (plain text, Markdown or HTML), normalise it, and cut it into blocks and sentences.

The normalised text is the reference for every offset the compiler emits: each quote is
``text[start:end]``. Normalising keeps one block (heading, list item, paragraph) per line, so headings and list
structure survive; inside a line, runs of white space become one space.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal

from .._exceptions import BadValueError

__all__ = ["Block", "Sentence", "Source", "normalise", "normalise_marked", "policy_from_text", "read_policy", "segment"]

Format = Literal["text", "markdown", "html"]
MAX_POLICY_BYTES = 2 * 1024 * 1024
MAX_QUOTE = 400  # the pack format's limit on a quote (pack/_types.py Quote)


@dataclass(frozen=True)
class Source:
    """A policy ready to draft from: its normalised text and where it came from."""

    name: str
    format: Format
    text: str
    heading_lines: frozenset[int] = frozenset()  # lines the markup marks as headings (HTML h1-h6, Markdown #)
    item_lines: frozenset[int] = frozenset()  # lines the markup marks as list items (HTML li, Markdown -)


@dataclass(frozen=True)
class Block:
    """One line of the normalised text: a heading, a list item or a paragraph."""

    kind: Literal["heading", "item", "paragraph"]
    start: int
    end: int
    heading: str  # the nearest heading above (or this heading itself)


@dataclass(frozen=True)
class Sentence:
    """A sentence (or clause of a run-on sentence) with its offsets into the normalised text."""

    start: int
    end: int
    text: str
    block: int
    kind: Literal["heading", "item", "paragraph"]
    heading: str


# -- reading ------------------------------------------------------------------------------------------------


def read_policy(source: str) -> Source:
    """Read POLICY from a file (``.txt``, ``.md``, ``.html``) or ``-`` for standard input."""
    if source == "-":
        raw = sys.stdin.read()
        name = "stdin"
    else:
        path = Path(source)
        if not path.is_file():
            raise BadValueError(f"{source}: no such policy file")
        if path.stat().st_size > MAX_POLICY_BYTES:
            raise BadValueError(f"{source}: larger than {MAX_POLICY_BYTES} bytes; is this a privacy policy?")
        try:
            raw = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadValueError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        name = path.name
    return policy_from_text(raw, name, where=source)


def policy_from_text(raw: str, name: str, *, where: str | None = None) -> Source:
    """A policy given as text (plain, Markdown or HTML, told by ``name``'s extension or the text itself)."""
    where = where or name
    if len(raw.encode("utf-8")) > MAX_POLICY_BYTES:
        raise BadValueError(f"{where}: larger than {MAX_POLICY_BYTES} bytes; is this a privacy policy?")
    fmt = _guess_format(where, raw)
    text, headings, items = _normalise(raw, fmt)
    if not text.strip():
        raise BadValueError(f"{where}: the policy has no text")
    return Source(name=name, format=fmt, text=text, heading_lines=headings, item_lines=items)


def _guess_format(source: str, raw: str) -> Format:
    lower = source.lower()
    if lower.endswith((".html", ".htm")):
        return "html"
    if lower.endswith((".md", ".markdown")):
        return "markdown"
    head = raw.lstrip()[:500].lower()
    if head.startswith(("<!doctype html", "<html")) or re.search(r"<(p|h[1-6]|li|div|body)\b", head):
        return "html"
    return "text"


class _HTMLText(HTMLParser):
    """Collect text, one line per block element; headings keep a '#' mark, list items a '- ' mark."""

    BLOCKS = frozenset({"p", "div", "section", "article", "br", "tr", "table", "ul", "ol", "dd", "dt", "blockquote",
                        "header", "footer", "main", "aside", "nav", "td", "th"})
    SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n# ")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS or tag == "li" or re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data.replace("\n", " "))


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPH = re.compile(r"(\*\*|__|`)")
_MD_HEADING = re.compile(r"^#{1,6}\s+")


def _from_markdown(raw: str) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for line in raw.splitlines():
        s = line.strip()
        if re.fullmatch(r"[-=*_]{3,}", s) or s.startswith("<!--"):
            continue
        s = _MD_LINK.sub(r"\1", s)
        s = _MD_EMPH.sub("", s)
        if _MD_HEADING.match(s):
            lines.append(("heading", _MD_HEADING.sub("", s).rstrip("#").strip()))
        elif re.match(r"^[-*+]\s+", s):
            lines.append(("item", re.sub(r"^[-*+]\s+", "", s)))
        else:
            lines.append(("", s.lstrip("> ")))
    return lines


def normalise(raw: str, fmt: Format = "text") -> str:
    """The normalised text: one block per line, single spaces, no blank lines, no markup."""
    return normalise_marked(raw, fmt)[0]


def normalise_marked(raw: str, fmt: Format = "text") -> tuple[str, frozenset[int]]:
    """The normalised text, and the numbers of the lines the markup marks as headings."""
    text, headings, _items = _normalise(raw, fmt)
    return text, headings


def _normalise(raw: str, fmt: Format) -> tuple[str, frozenset[int], frozenset[int]]:
    if fmt == "html":
        parser = _HTMLText()
        parser.feed(raw)
        parser.close()
        marked = _from_markdown("".join(parser.parts))
    elif fmt == "markdown":
        marked = _from_markdown(raw)
    else:
        marked = [("", line) for line in raw.splitlines()]
    out: list[str] = []
    headings: set[int] = set()
    items: set[int] = set()
    for kind, line in marked:
        line = unicodedata.normalize("NFC", line).replace("\u00a0", " ").replace("\u3000", " ")
        line = re.sub(r"[\u200b\u200c\u200d\ufeff\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]", "", line)
        line = re.sub(r"[ \t\f\v]+", " ", line).strip()
        if not line:
            continue
        if (fmt == "text" and out and (line[0].islower() or line[0].isdigit() and out[-1][-1].isalpha())
                and not _BULLET.match(line)
                and out[-1][-1] not in ".!?:;。！？；：" and len(out) - 1 not in headings):
            out[-1] += " " + line  # a hard-wrapped sentence: the seed broke it across lines
            continue
        if kind == "heading":
            headings.add(len(out))
        elif kind == "item":
            items.add(len(out))
        out.append(line)
    return "\n".join(out), frozenset(headings), frozenset(items)


# -- segmenting -----------------------------------------------------------------------------------------------

_BULLET = re.compile(r"^(?:[•·◦▪▫●○■□‣⁃\-*–—]|\(?\d{1,2}[.)、]|\d{1,2}(?:\.\d{1,2})+\.?|\(?[a-zA-Z][.)]|"
                     r"\(?[IVXivx]{1,4}[.)]|\([A-Za-z0-9]{1,3}\)|[一二三四五六七八九十]+[、.])\s*")
_ABBREV = re.compile(r"(?:\b(?:Co|Ltd|Inc|Corp|No|Mr|Mrs|Ms|Dr|St|vs|Art|Sec|approx|incl|Jan|Feb|Mar|Apr|Jun|Jul|Aug|"
                     r"Sep|Sept|Oct|Nov|Dec)|\be\.g|\bi\.e|\b[A-Z]|\bU\.S|\bU\.K)\.$")
_END = re.compile(r"[.!?。！？;；](?:[\"'”’)\]]*)(?=\s+[\"'“‘(\[]?[A-Z0-9•·◦▪(]|\s*$)|[。！？；]")


def _is_heading(line: str) -> bool:
    body = _BULLET.sub("", line, count=1).strip()
    if not body or len(line) > 90 or len(body.split()) > 12:
        return False
    if body[-1] in ".;,:：；，。!?" or "@" in body or "," in body or re.search(r"[a-z][A-Z][a-z]", body):
        return False  # a heading is no list, and words glued together are a flattened table row
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'’]*", body)]
    if not words:
        return False
    small = {"a", "an", "the", "of", "and", "or", "to", "for", "in", "on", "with", "your", "we", "our", "how", "by",
             "is", "are", "this", "that", "at", "as", "from", "do", "you", "use"}
    caps = sum(1 for w in words if w[0].isupper() or w.lower() in small)
    return caps / len(words) >= 0.6 or bool(_BULLET.match(line)) and len(words) <= 8


def segment(text: str, heading_lines: frozenset[int] = frozenset(),
            item_lines: frozenset[int] = frozenset()) -> tuple[list[Block], list[Sentence]]:
    """Cut the normalised text into blocks (one per line) and sentences with offsets (a heading is one sentence)."""
    blocks: list[Block] = []
    sentences: list[Sentence] = []
    heading = ""
    pos = 0
    for number, line in enumerate(text.split("\n")):
        start, end = pos, pos + len(line)
        pos = end + 1
        kind: Literal["heading", "item", "paragraph"]
        if number in heading_lines or (not heading_lines and _is_heading(line)):
            kind = "heading"
            heading = _BULLET.sub("", line, count=1).strip()
        elif number in item_lines or _BULLET.match(line):
            kind = "item"
        else:
            kind = "paragraph"
        blocks.append(Block(kind=kind, start=start, end=end, heading=heading))
        if kind == "heading":
            sentences.append(Sentence(start, end, line, len(blocks) - 1, kind, heading))
            continue
        m = _BULLET.match(line)
        offset = m.end() if m and kind == "item" else 0
        for s, e in _sentences(line, offset):
            sentences.append(Sentence(start + s, start + e, line[s:e], len(blocks) - 1, kind, heading))
    return blocks, sentences


def _sentences(line: str, offset: int) -> list[tuple[int, int]]:
    """Sentence spans inside one line, starting at ``offset`` (after a list marker)."""
    spans: list[tuple[int, int]] = []
    begin = offset
    for m in _END.finditer(line, offset):
        end = m.end()
        piece = line[begin:end]
        if m.group(0)[0] == "." and _ABBREV.search(line[begin:m.start() + 1]):
            continue
        if m.group(0)[0] in ";；" and (len(piece) < 40 or len(line) - end < 40):
            continue  # a short clause stays with its sentence
        if re.fullmatch(r"\s*\(?[0-9IVXivx]{1,4}[.)]\s*", piece):
            continue  # an inner list number
        spans.append((begin, end))
        begin = end
        while begin < len(line) and line[begin] == " ":
            begin += 1
    if begin < len(line):
        spans.append((begin, len(line)))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while s < e and line[s] == " ":
            s += 1
        while e > s and line[e - 1] == " ":
            e -= 1
        if e > s:
            out.extend(_split_long(line, s, e))
    return out


def _split_long(line: str, s: int, e: int) -> list[tuple[int, int]]:
    """A run-on sentence longer than a quote may be is cut at clause boundaries (', ', ': ')."""
    if e - s <= MAX_QUOTE:
        return [(s, e)]
    window = line[s:s + MAX_QUOTE]
    cut = max(window.rfind(": "), window.rfind(", "), window.rfind(" and "), window.rfind(" or "))
    if cut < MAX_QUOTE // 3:
        cut = window.rfind(" ")
    if cut <= 0:
        cut = MAX_QUOTE
    first_end = s + cut + (1 if line[s + cut] in ",:" else 0)
    rest = first_end
    while rest < e and line[rest] == " ":
        rest += 1
    return [(s, first_end)] + _split_long(line, rest, e)
