"""Load a pack from YAML: structure by pydantic, meaning by ``_checks``, errors located by line."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .._exceptions import (
    PackIssue,
    PackNotFoundError,
    PackReferenceError,
    PackSchemaError,
    PackSyntaxError,
)
from ._checks import check_pack
from ._model import Pack
from ._types import Strict

__all__ = ["bundled_pack_names", "bundled_pack_path", "load_pack", "parse_pack"]

Loc = Sequence[str | int]
MAX_PACK_BYTES = 2 * 1024 * 1024


def bundled_pack_names() -> list[str]:
    """Names of the packs shipped inside the package (``koso``, ``kalos`` ...)."""
    root = resources.files("policykeeper") / "packs"
    return sorted(p.name[: -len(".yaml")] for p in root.iterdir() if p.name.endswith(".yaml"))


def bundled_pack_path(name: str) -> Path:
    """Path of a bundled pack by name."""
    if name not in bundled_pack_names():
        raise PackNotFoundError(
            f"no bundled pack named {name!r}; bundled packs: {', '.join(bundled_pack_names())}"
        )
    return Path(str(resources.files("policykeeper") / "packs" / f"{name}.yaml"))


def load_pack(source: str | Path) -> Pack:
    """Load and validate a pack from a file path or the name of a bundled pack."""
    path = Path(source)
    if not path.exists():
        if isinstance(source, str) and "/" not in source and not source.endswith(".yaml"):
            path = bundled_pack_path(source)
        else:
            raise PackNotFoundError(f"{source}: no such file")
    if path.is_dir():
        raise PackNotFoundError(f"{source}: is a directory, not a pack file")
    if path.stat().st_size > MAX_PACK_BYTES:
        raise PackSyntaxError(
            [PackIssue(str(source), None, None, "", f"file is larger than {MAX_PACK_BYTES} bytes")]
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PackSyntaxError([PackIssue(str(source), None, None, "", f"not UTF-8 text ({exc.reason})")]) from None
    return parse_pack(text, str(source))


def parse_pack(text: str, filename: str = "<pack>") -> Pack:
    """Validate pack YAML text; raise :class:`PackError` naming file, line and key."""
    node, data = _parse_yaml(text, filename)
    if not isinstance(data, dict):
        raise PackSyntaxError([PackIssue(filename, 1, 1, "", "a pack must be a YAML mapping at the top level")])
    try:
        pack = Pack.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # A list whose only item failed also reports "too short", and a union also reports the branches that
        # did not apply ("should be 'unspecified'"): when a deeper error exists, it says more.
        deeper = [_clean_loc(tuple(e["loc"])) for e in errors]
        errors = [
            e for e in errors
            if e["type"] not in ("too_short", "literal_error")
            or not any(len(d) > len(c) and d[: len(c)] == c for c in [_clean_loc(tuple(e["loc"]))] for d in deeper)
        ]
        issues = [_issue(filename, node, tuple(err["loc"]), _message(err)) for err in errors]
        raise PackSchemaError(_dedupe(issues)) from None
    problems = check_pack(pack)
    if problems:
        raise PackReferenceError(_dedupe([_issue(filename, node, loc, msg) for loc, msg in problems]))
    return pack


# -- YAML -------------------------------------------------------------------


def _parse_yaml(text: str, filename: str) -> tuple[yaml.Node | None, Any]:
    try:
        loader = yaml.SafeLoader(text)  # the reader refuses control characters here, before any parsing
    except yaml.YAMLError as exc:
        raise PackSyntaxError([PackIssue(filename, None, None, "", f"not valid YAML: {exc}")]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise PackSyntaxError([PackIssue(filename, 1, 1, "", "the file is empty")])
        dup = _find_duplicate_key(node)
        if dup is not None:
            key_node, path = dup
            raise PackSyntaxError(
                [
                    PackIssue(
                        filename,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        _fmt(path),
                        f"duplicate key {key_node.value!r}: the second would silently replace the first",
                    )
                ]
            )
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        raise PackSyntaxError([PackIssue(filename, line, col, "", f"not valid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise PackSyntaxError([PackIssue(filename, None, None, "", f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    return node, data


def _find_duplicate_key(node: yaml.Node, path: tuple[str | int, ...] = ()) -> tuple[yaml.Node, tuple[str | int, ...]] | None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                return key_node, path + (key,)
            seen.add(key)
            found = _find_duplicate_key(value_node, path + (key,))
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found = _find_duplicate_key(item, path + (i,))
            if found:
                return found
    return None


def _locate(node: yaml.Node | None, loc: Loc) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the deepest key or item that ``loc`` reaches."""
    if node is None:
        return None, None
    best = node
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if match is None:
                break
            best, node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            best = node = node.value[part]
        else:
            break
    return best.start_mark.line + 1, best.start_mark.column + 1


def _model_names() -> frozenset[str]:
    names: set[str] = set()
    todo: list[type] = [Strict]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return frozenset(names)


def _clean_loc(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Drop pydantic's union-branch tags ('FixedDuration', 'literal[...]') so the path is the one in the file."""
    tags = _model_names()
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (part in tags or re.match(r"^(function-[a-z]+|literal|tuple|dict|list)\[", part)
                                      or part in {"str", "int", "bool", "date"}):
            continue
        out.append(part)
    return tuple(out)


def _issue(filename: str, node: yaml.Node | None, loc: Loc, message: str) -> PackIssue:
    clean = _clean_loc(tuple(loc))
    line, col = _locate(node, clean)
    return PackIssue(filename, line, col, _fmt(clean), message)


def _fmt(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _message(err: Any) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key (a typo? unknown keys are refused so no promise is silently dropped)"
    if kind == "missing":
        return "required key is missing"
    msg = str(err.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")


def _dedupe(issues: list[PackIssue]) -> list[PackIssue]:
    """Union types report one error per branch: keep one issue per place, joining distinct messages."""
    merged: dict[str, PackIssue] = {}
    for issue in issues:
        first = merged.get(issue.path)
        if first is None:
            merged[issue.path] = issue
        elif issue.message not in first.message:
            merged[issue.path] = PackIssue(
                first.file, first.line, first.column, first.path, f"{first.message}; or: {issue.message}"
            )
    return list(merged.values())
