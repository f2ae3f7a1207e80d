"""Does the dataset map cover the live database? Every table and column it does not describe is reported, and an
optional scan of sampled values flags the uncovered columns that look personal.

A column is covered when the map lists it and says what it holds: a data category (one outside ``user`` marks it
not personal, e.g. ``system.operations``), an identity, or a key or reference. A column the map lists with no category
(and none to inherit) is as unknown as one it does not list.

The detectors are small and our own (no model, no download): an email pattern; a phone pattern (7 to 15 digits once
spaces, dashes, dots, slashes, parentheses and ``+`` are removed, and not a date); and a name
test: two to four capitalised words whose first is in :data:`GIVEN_NAMES`. That list was written by hand for this
project (frequent given names in English-, Spanish-, Portuguese-, French- and German-speaking countries, pinyin and
Korean romanisations, and Lao and Thai names as written in the seed policies' markets); it is a hint, not a census:
a column whose values are names not on it is not flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from ..store import connectors as connector_store
from ._model import Collection, Dataset, DatasetMap

__all__ = ["Coverage", "check_coverage", "looks_personal", "uncovered_columns"]

GIVEN_NAMES = frozenset("""
aaron adam adrian ahmed aiden alan albert alejandro alex alexander alice alicia amanda amelia amy ana andrea andrew
angela anna anne anthony antonio ashley barbara ben benjamin beatriz brian bruno camila carlos carmen caroline charles
charlotte chris christian christopher claire daniel david diana diego dmitri edward elena elizabeth ella emily emma eric
eva fatima felipe fernando francisco frank gabriel george grace hannah harry helen henry hugo isabel isabella jack jacob
james jane jennifer jessica joao john jonathan jorge jose joseph juan julia julien karen kate katherine kevin laura
leon linda lisa lucas lucia luis luisa manuel marco margaret maria mark martin mary matthew maximilian michael michelle
miguel mohammed nancy natalia nicolas nicole noah olivia oliver pablo patricia paul pedro peter rachel rafael rebecca
richard robert rosa ryan samuel sandra sarah sebastian sofia sophie stephen steven susan thomas tom victoria william
wei fang min jing li lei hui yan ying jun hao ming xiao chen yang zhang wang liu zhao huang zhou wu xu sun ma zhu hu
guo he lin luo gao zheng
minjun seoyeon jiwoo jiho seojun hyun jisoo minseo yuna jihoon kim lee park choi jung kang cho yoon jang
somchai somsak sombat noy bounmy khamla phet souk vanh chanthala keo malee somphone soukanh nok bee
""".split())

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE_NOISE = str.maketrans("", "", " -./()+")
_WORD = re.compile(r"[A-Z][a-z'\-]+")
_DATE = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")


def looks_personal(value: object) -> str | None:
    """``email``, ``phone`` or ``name`` when the value looks like one; None otherwise."""
    if not isinstance(value, str) or not value.strip():
        return None
    v = value.strip()
    if _EMAIL.search(v):
        return "email"
    digits = v.translate(_PHONE_NOISE)
    if digits.isdigit() and 7 <= len(digits) <= 15 and len(v) <= 24 and not _DATE.match(v):
        return "phone"
    words = v.split()
    for i, w in enumerate(words):
        if w.lower().strip(",.") in GIVEN_NAMES and i + 1 < len(words) and _WORD.fullmatch(words[i + 1].strip(",.")) \
                and _WORD.fullmatch(w.strip(",.")):
            return "name"
    return None


def uncovered_columns(ds: Dataset, c: Collection, columns: Iterable[str]) -> list[str]:
    """Of a table's ``columns``, those the map does not describe: not listed, or listed with nothing said about
    them."""
    mapped = {f.name: f for f in c.fields}
    out = [col for col in columns if col not in mapped]
    out += [f.name for f in c.fields if not (f.structural or f.identity or ds.categories(c, f))]
    return out


@dataclass
class Coverage:
    """What ``dataset check`` found: every gap between the map and the live schema."""

    tables_not_in_map: list[str] = field(default_factory=list)
    collections_not_in_database: list[str] = field(default_factory=list)
    fields_not_in_database: list[str] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)
    looks_personal: dict[str, str] = field(default_factory=dict)
    """Uncovered column -> what its sampled values look like (with --scan)."""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.tables_not_in_map or self.collections_not_in_database or self.fields_not_in_database
                    or self.uncovered)


def check_coverage(engine: Engine, dmap: DatasetMap, *, scan: bool = False, sample: int = 200) -> Coverage:
    """Compare the map with the live schema (every table of the database's default schema); with ``scan``, sample up
    to ``sample`` values of each uncovered column and say which look personal. Values are never returned."""
    report = Coverage(notes=dmap.notes())
    live = connector_store.table_names(engine)
    mapped = {c.name for ds in dmap.dataset for c in ds.collections}
    report.tables_not_in_map = sorted(live - mapped)
    for ds in dmap.dataset:
        for c in ds.collections:
            where = f"{ds.fides_key}.{c.name}"
            if c.name not in live:
                report.collections_not_in_database.append(where)
                continue
            t = connector_store.reflect_table(engine, c.name)
            columns = connector_store.column_names(t)
            gone = [f.name for f in c.fields if f.name not in columns]
            report.fields_not_in_database += [f"{where}.{n}" for n in gone]
            for col in uncovered_columns(ds, c, columns):
                if col in gone:
                    continue
                report.uncovered.append(f"{where}.{col}")
                if scan:
                    kind = _scan(engine, t, col, sample)
                    if kind:
                        report.looks_personal[f"{where}.{col}"] = kind
    if scan:
        for name in report.tables_not_in_map:
            t = connector_store.reflect_table(engine, name)
            for colname in connector_store.column_names(t):
                kind = _scan(engine, t, colname, sample)
                if kind:
                    report.looks_personal[f"{name}.{colname}"] = kind
    return report


def _scan(engine: Engine, t: Any, col: str, sample: int) -> str | None:
    """The kind most sampled values of a column of ``t`` (from ``reflect_table``) look like, if at least one in five
    does."""
    values = connector_store.sample_values(engine, t, col, sample)
    if values is None:
        return None
    kinds: dict[str, int] = {}
    for v in values:
        k = looks_personal(v)
        if k:
            kinds[k] = kinds.get(k, 0) + 1
    if not kinds:
        return None
    kind, n = max(kinds.items(), key=lambda kv: kv[1])
    return kind if n * 5 >= len(values) else None
