"""Plain words for the pack's keys, for the people's notice (``_people``): legal bases, grounds, rights, channels,
durations, end actions, security measures... The words are data, in ``people_words.toml`` next to this module: one
table a kind of key, each value an English message id, translated with the pages' catalogues
(``web/locale/zh_Hans/LC_MESSAGES/policypage.po``); a key without an entry there is shown as the pack's own words."""

from __future__ import annotations

import tomllib
from pathlib import Path

__all__ = ["BASIS", "BREACH_CONTENT", "END", "GROUNDS", "HANDLES", "KEEP", "LANGUAGES", "PRECONDITION", "RIGHTS",
           "SECURITY", "START", "SYMBOLIC", "TABLES", "TECH", "TERMS", "WORDS_FILE"]

WORDS_FILE = Path(__file__).with_name("people_words.toml")
_WORDS = tomllib.loads(WORDS_FILE.read_text(encoding="utf-8"))


def _table(name: str) -> dict[str, str]:
    """One table of the words file, checked: every key and every value a string."""
    table = _WORDS.get(name)
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ValueError(f"{WORDS_FILE.name}: [{name}] must be a table of key = \"words\"")
    return dict(table)


BASIS = _table("basis")
GROUNDS = _table("grounds")
RIGHTS = _table("rights")
TERMS = _table("terms")
SYMBOLIC = _table("symbolic")
KEEP = _table("keep")
START = _table("start")
END = _table("end")
SECURITY = _table("security")
TECH = _table("tech")
PRECONDITION = _table("precondition")
BREACH_CONTENT = _table("breach_content")
HANDLES = _table("handles")
LANGUAGES = _table("languages")

TABLES = (BASIS, GROUNDS, RIGHTS, TERMS, SYMBOLIC, KEEP, START, END, SECURITY, TECH, PRECONDITION,
          BREACH_CONTENT, HANDLES, LANGUAGES)
"""Every table, to check that each of their words is translated."""
