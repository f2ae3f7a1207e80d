"""The exception tree in ``_exceptions``' docstring lists every class, each indented under its own base."""

from __future__ import annotations

import inspect
import re
import typing

from policykeeper import _exceptions
from policykeeper._exceptions import ErrorCode, PolicykeeperError

_LINE = re.compile(r"^    (?P<lead>(?:[│ ]   )*(?:[├└]── )?)(?P<name>[A-Z]\w*Error)\b", re.MULTILINE)


def _documented() -> dict[str, str | None]:
    """Each class named in the docstring's tree, with the class it is drawn under (None for the root)."""
    parents: dict[str, str | None] = {}
    stack: list[str] = []
    for m in _LINE.finditer(_exceptions.__doc__ or ""):
        depth = len(m["lead"]) // 4
        del stack[depth:]
        parents[m["name"]] = stack[-1] if stack else None
        stack.append(m["name"])
    return parents


def _defined() -> dict[str, str | None]:
    classes = {name: cls for name, cls in inspect.getmembers(_exceptions, inspect.isclass)
               if cls.__module__ == _exceptions.__name__ and issubclass(cls, PolicykeeperError)}
    return {name: (None if cls is PolicykeeperError else cls.__bases__[0].__name__) for name, cls in classes.items()}


def test_the_docstring_tree_lists_every_exception_class_under_its_base() -> None:
    assert _documented() == _defined()


def test_the_tree_reader_sees_a_class_drawn_under_the_wrong_base() -> None:
    doc = _exceptions.__doc__ or ""
    moved = doc.replace("    │   └── PrivilegedFactError", "    ├── PrivilegedFactError     ")
    assert moved != doc
    _exceptions.__doc__ = moved
    try:
        assert _documented()["PrivilegedFactError"] == "PolicykeeperError"
        assert _documented() != _defined()
    finally:
        _exceptions.__doc__ = doc


def test_every_exception_class_has_a_stable_code() -> None:
    codes = set(typing.get_args(ErrorCode))
    for name, base in _defined().items():
        if base is not None:
            assert getattr(_exceptions, name).code in codes, name
    assert _exceptions.PackSyntaxError.code == "pack_syntax" and _exceptions.BadDetailError.code == "bad_value"
