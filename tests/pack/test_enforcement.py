"""Every field of the pack model is marked enforced (and read where it says) or descriptive (with a reason)."""

from __future__ import annotations

import ast
import inspect
from functools import cache
from pathlib import Path

import pytest

import policykeeper
from policykeeper.pack import Pack, _data, _lifecycle, _model, _rights, _sharing, _types
from policykeeper.pack._enforcement import (
    ENFORCEMENT,
    Descriptive,
    Enforced,
    marking_of,
)

SRC = Path(policykeeper.__file__).parent


def _models() -> list[type[_types.Strict]]:
    found: dict[str, type[_types.Strict]] = {}
    for mod in (_types, _model, _data, _sharing, _rights, _lifecycle):
        for name, obj in vars(mod).items():
            if inspect.isclass(obj) and issubclass(obj, _types.Strict) and obj.__module__ == mod.__name__:
                found[name] = obj
    return list(found.values())


def _fields() -> list[tuple[type[_types.Strict], str]]:
    return [(m, f) for m in _models() for f in m.model_fields]


@cache
def _attributes(module: str) -> frozenset[str]:
    """Every attribute name read in ``module`` (a path under policykeeper/)."""
    tree = ast.parse((SRC / module).read_text())
    return frozenset(n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute))


def test_every_field_of_the_pack_model_is_marked() -> None:
    unmarked = [f"{m.__name__}.{f}" for m, f in _fields() if marking_of(m, f) is None]
    assert unmarked == [], f"pack fields neither enforced nor descriptive (mark them in pack/_enforcement.py): {unmarked}"


def test_no_marking_names_a_field_that_does_not_exist() -> None:
    known = {f"{cls.__name__}.{f}" for m, f in _fields() for cls in m.__mro__ if f in getattr(cls, "__annotations__", {})}
    assert sorted(set(ENFORCEMENT) - known) == []


@pytest.mark.parametrize("key", sorted(k for k, v in ENFORCEMENT.items() if isinstance(v, Enforced)))
def test_an_enforced_field_is_read_where_the_marking_says(key: str) -> None:
    marking = ENFORCEMENT[key]
    assert isinstance(marking, Enforced) and marking.where
    field = key.split(".", 1)[1]
    for module in marking.where:
        assert not module.startswith("pack/"), f"{key}: the pack's own modules render and check; they do not enforce"
        assert (SRC / module).is_file(), f"{key}: no module {module}"
        assert field in _attributes(module), f"{key} is marked enforced in {module}, which never reads .{field}"


def test_a_descriptive_field_says_why() -> None:
    short = [k for k, v in ENFORCEMENT.items() if isinstance(v, Descriptive) and len(v.reason) < 15]
    assert short == []


def test_the_json_schema_shows_each_fields_marking() -> None:
    schema = Pack.model_json_schema()
    assert schema["properties"]["id"]["x-enforcement"]["marking"] == "enforced"
    assert schema["properties"]["glossary"]["x-enforcement"]["marking"] == "descriptive"
    fee = schema["$defs"]["FeeRule"]["properties"]["repeat_threshold"]["x-enforcement"]
    assert fee == {"marking": "enforced", "where": ["requests/_submit.py"]}
    backups = schema["$defs"]["BackupRule"]["properties"]["erasure_covers_backups"]["x-enforcement"]
    assert backups == {"marking": "enforced", "where": ["deletion/__init__.py"]}
