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
MAX_DEPTH = 40
"""Deepest nesting of mappings and lists a pack may have (the bundled packs use 7)."""
MAX_NODES = 25_000
"""Most values (scalars, mappings, lists) a pack may have, counting each alias as the copy it stands for (the
bundled packs have under 4,000): an alias bomb, or a file of 20,000 keys, is refused before anything is built."""
MAX_ALIASES = 100
"""Most aliases (``*name``) a pack may use."""
MAX_ISSUES = 50
"""Most problems reported for one pack (a file of 20,000 unknown keys is refused with the first ones)."""


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
    """Validate pack YAML text; raise :class:`PackError` naming file, line and key. The work is bounded by the size
    of the text (:data:`MAX_PACK_BYTES`), its nesting (:data:`MAX_DEPTH`), its values with aliases expanded
    (:data:`MAX_NODES`, :data:`MAX_ALIASES`) and the problems reported (:data:`MAX_ISSUES`)."""
    if len(text) > MAX_PACK_BYTES:
        raise PackSyntaxError([PackIssue(filename, None, None, "", f"the pack is larger than {MAX_PACK_BYTES} bytes")])
    node, data = _parse_yaml(text, filename)
    if not isinstance(data, dict):
        raise PackSyntaxError([PackIssue(filename, 1, 1, "", "a pack must be a YAML mapping at the top level")])
    try:
        pack = Pack.model_validate(data)
    except ValidationError as exc:
        total = exc.error_count()
        errors = exc.errors()[:MAX_ISSUES * 4]
        # A list whose only item failed also reports "too short", and a union also reports the branches that
        # did not apply ("should be 'unspecified'"): when a deeper error exists, it says more.
        deeper = [_clean_loc(tuple(e["loc"])) for e in errors]
        errors = [
            e for e in errors
            if e["type"] not in ("too_short", "literal_error")
            or not any(len(d) > len(c) and d[: len(c)] == c for c in [_clean_loc(tuple(e["loc"]))] for d in deeper)
        ]
        issues = [_issue(filename, node, tuple(err["loc"]), _message(err)) for err in errors]
        raise PackSchemaError(_capped(_dedupe(issues), total)) from None
    problems = check_pack(pack)
    if problems:
        issues = [_issue(filename, node, loc, msg) for loc, msg in problems[:MAX_ISSUES * 4]]
        raise PackReferenceError(_capped(_dedupe(issues), len(problems)))
    return pack


# -- YAML -------------------------------------------------------------------


def _capped(issues: list[PackIssue], total: int) -> list[PackIssue]:
    if len(issues) <= MAX_ISSUES and total <= MAX_ISSUES * 4:
        return issues
    last = issues[MAX_ISSUES - 1] if len(issues) >= MAX_ISSUES else issues[-1]
    kept = issues[:MAX_ISSUES - 1] if len(issues) >= MAX_ISSUES else issues[:-1]
    return [*kept, PackIssue(last.file, last.line, last.column, last.path,
                             f"{last.message} (and more problems not listed: fix these first)")]


_FastLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it: 20x faster


def _check_bounds(text: str, filename: str) -> None:
    """Walk the YAML events (the parser holds no recursion) and refuse, before anything is built, a pack nested
    deeper than :data:`MAX_DEPTH` or with more than :data:`MAX_NODES` values once its aliases are expanded."""
    depth = nodes = aliases = 0
    sizes: dict[str, int] = {}
    open_: list[tuple[str | None, int]] = []

    def refuse(event: yaml.Event, why: str) -> PackSyntaxError:
        mark = event.start_mark
        return PackSyntaxError([PackIssue(filename, mark.line + 1 if mark else None,
                                          mark.column + 1 if mark else None, "", why)])

    for event in yaml.parse(text, Loader=_FastLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            nodes += 1
            if depth > MAX_DEPTH:
                raise refuse(event, f"nested more than {MAX_DEPTH} levels deep; a pack needs far fewer")
            open_.append((event.anchor, nodes))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, start = open_.pop()
            if anchor is not None:
                sizes[anchor] = nodes - start + 1
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise refuse(event, f"more than {MAX_ALIASES} aliases (*name); write the values out instead")
            nodes += sizes.get(str(event.anchor), 1)
        if nodes > MAX_NODES:
            raise refuse(event, f"more than {MAX_NODES} values (aliases counted as the copies they stand for); "
                                "a pack needs far fewer")


def _parse_yaml(text: str, filename: str) -> tuple[yaml.Node | None, Any]:
    try:
        loader = yaml.SafeLoader(text)  # the reader refuses control characters here, before any parsing
    except yaml.YAMLError as exc:
        raise PackSyntaxError([PackIssue(filename, None, None, "", f"not valid YAML: {exc}")]) from None
    try:
        _check_bounds(text, filename)
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
