"""The registry of audit event kinds: the base model, ``register``, the check every entry passes before it is written,
and the reference page generated from the models (the models themselves are in :mod:`policykeeper.audit._events`).

Typed audit events: one model per kind of entry, and the registry that checks every entry against its kind.

An audit entry is a ``kind`` and a ``detail`` (plus who, when, which person, which promises). Each kind has one
model here, registered under its ``KIND`` with :func:`register` (as datasette's ``register_events`` hook registers event
classes). The model *is* the documentation of the kind: its docstring says what the entry records and when, its
fields are the keys ``detail`` may hold (``docs/audit-events.md`` is generated from these models and a test keeps it
in step). A kind whose entries come in several shapes (an incident is opened, stepped, notified, reported, closed)
is one model per shape, told apart by a literal ``event`` (or ``action``) field; the kind's registered type is
their union.

:func:`policykeeper.audit.record` checks the ``detail`` it is given against the kind's registered type before it
appends anything: an unknown kind, a missing or unknown key or a value of the wrong type raises
:class:`~policykeeper._exceptions.AuditEventError` and writes nothing. The stored JSON is the ``detail`` exactly as
given, so entries written before the registry existed read and verify as they always did.

Personal data never goes into a detail: the fields are ids (pseudonymous or of the engine's own rows), category,
purpose and rule names, counts, outcomes and times. No field here may hold a value a person gave.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, NotRequired, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from .._exceptions import AuditEventError

__all__ = ["EVENTS", "AuditEvent", "check_detail", "event_type", "markdown", "parse_detail", "register"]


class AuditEvent(BaseModel):
    """The ``detail`` of one audit entry of one kind. Subclasses set ``KIND`` and declare the keys as fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    KIND: ClassVar[str]
    """The audit entry's ``kind`` (a class variable, so that a detail may itself have a ``kind`` key)."""

    def detail(self) -> dict[str, Any]:
        """The JSON ``detail`` this event is stored as: the keys that were set, in JSON types."""
        return self.model_dump(mode="json", exclude_unset=True)


E = TypeVar("E", bound=type[AuditEvent])

EVENTS: dict[str, tuple[type[AuditEvent], ...]] = {}
"""Every kind of audit entry, with the models of its shapes (most kinds have one)."""

_ADAPTERS: dict[str, TypeAdapter[Any]] = {}
_CHECKERS: dict[str, TypeAdapter[Any]] = {}


def register(cls: E) -> E:
    """Class decorator: add an event model to the registry under its ``kind``."""
    kind = cls.KIND
    EVENTS[kind] = (*EVENTS.get(kind, ()), cls)
    _ADAPTERS.pop(kind, None)
    _CHECKERS.pop(kind, None)
    return cls


def event_type(kind: str) -> Any:
    """The type a ``detail`` of ``kind`` must fit: the model, or the union of the kind's models."""
    models = EVENTS.get(kind)
    if not models:
        raise AuditEventError(f"audit entry of kind {kind!r}: no such kind is registered (see docs/audit-events.md)")
    if len(models) == 1:
        return models[0]
    union: Any = models[0]
    for m in models[1:]:
        union = union | m
    return union


def _adapter(kind: str) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(event_type(kind))
    return adapter


def _as_typed_dict(model: type[AuditEvent]) -> Any:
    """The model's keys as a TypedDict (unset optional keys left out, unknown keys refused): checking a detail
    against it is the model's check without building an instance, which a decision on the hot path cannot afford."""
    keys = {name: (f.annotation if f.is_required() else NotRequired[f.annotation])
            for name, f in model.model_fields.items()}
    make: Any = TypedDict  # built from the model's fields at run time, which a type checker cannot follow
    shape = make(model.__name__, keys)
    return with_config(ConfigDict(extra="forbid"))(shape)


def _checker(kind: str) -> TypeAdapter[Any]:
    checker = _CHECKERS.get(kind)
    if checker is None:
        models = EVENTS.get(kind)
        if not models:
            raise AuditEventError(f"audit entry of kind {kind!r}: no such kind is registered (see docs/audit-events.md)")
        union: Any = _as_typed_dict(models[0])
        for m in models[1:]:
            union = union | _as_typed_dict(m)
        checker = _CHECKERS[kind] = TypeAdapter(union)
    return checker


def _refusal(kind: str, exc: ValidationError) -> AuditEventError:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'detail'}: {e['msg']}" for e in exc.errors()[:5])
    return AuditEventError(f"audit entry of kind {kind!r} does not fit its registered shape: {problems}")


def check_detail(kind: str, detail: Mapping[str, Any]) -> None:
    """Raise AuditEventError unless ``detail`` fits a shape of ``kind`` (:func:`policykeeper.audit.record` calls this
    before it writes; the same check as :func:`parse_detail`, without building the event)."""
    try:
        _checker(kind).validate_python(detail)
    except ValidationError as exc:
        raise _refusal(kind, exc) from None


def parse_detail(kind: str, detail: Mapping[str, Any]) -> AuditEvent:
    """The typed event a stored or about-to-be-stored ``detail`` of ``kind`` is; raises AuditEventError when it
    fits no shape of that kind (saying which key is wrong)."""
    try:
        parsed = _adapter(kind).validate_python(dict(detail))
    except ValidationError as exc:
        raise _refusal(kind, exc) from None
    assert isinstance(parsed, AuditEvent)
    return parsed


# ---------------------------------------------------------------------------------------------------------------------
# The documentation (docs/audit-events.md is this function's output; a test keeps the two the same)
def _words(annotation: Any) -> str:
    """A field's type in words, for the documentation."""
    import types
    import typing

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        parts = [a for a in args if a is not type(None)]
        text = " or ".join(_words(a) for a in parts)
        return f"{text} or null" if len(parts) < len(args) else text
    if origin is Literal:
        shown = [f"`{a if isinstance(a, str) else json.dumps(a)}`" for a in args]
        return f"always {shown[0]}" if len(shown) == 1 else "one of " + ", ".join(shown)
    if origin is list:
        return f"list of {_words(args[0])}"
    if origin is dict:
        return f"object: {_words(args[1])} by name"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        inner = ", ".join(f"`{n}` ({_words(f.annotation)})" for n, f in annotation.model_fields.items())
        return f"object {{{inner}}}"
    return {str: "text", int: "whole number", bool: "true or false"}.get(annotation, getattr(annotation, "__name__",
                                                                                               str(annotation)))


def markdown() -> str:
    """The reference of every audit kind: what each shape records and when, and its keys (docs/audit-events.md)."""
    out = [
        "# Audit events",
        "",
        "Every audit entry has a *kind* and a *detail*, besides who (`actor`), when (`at`), about whom (`subject_id`, "
        "pseudonymous), the decision it belongs to (`decision_id`, `allowed`), the promises it keeps (`promises`) and "
        "the pack version. This page lists every kind and the keys its detail holds. policykeeper checks each entry "
        "against this list before writing it (`audit_event` in [errors.md](errors.md)), so the list is complete. A "
        "detail never holds a value a person gave: ids, names of categories, purposes and rules, counts, outcomes and "
        "times only.",
        "",
        "The models are in `src/policykeeper/audit/_events.py` and `_request_events.py` (the registry in "
        "`_registry.py`); this page is generated from them "
        "(`python -c 'import policykeeper.audit as a; print(a.markdown(), end=\"\")' > docs/audit-events.md`) and a "
        "test fails when the two differ. "
        "A key marked *optional* is left out of the entry when it does not apply. To add a kind, add a model there "
        "with `@register` and regenerate this page.",
        "",
        "`policykeeper audit verify` checks the hash chain: that no entry was edited, deleted, inserted or reordered. "
        "It proves what was written, whatever its shape; entries written by an earlier version keep verifying.",
    ]
    for kind in sorted(EVENTS):
        out += ["", f"## `{kind}`"]
        for model in EVENTS[kind]:
            doc = " ".join((model.__doc__ or "").split()).replace("``", "`")
            out += ["", f"**{model.__name__}**: {doc}" if len(EVENTS[kind]) > 1 else doc, "",
                    "| key | value | |", "|---|---|---|"]
            for name, f in model.model_fields.items():
                out.append(f"| `{name}` | {_words(f.annotation)} | {'' if f.is_required() else 'optional'} |")
    return "\n".join(out) + "\n"
