"""Typed audit events: one model per kind of entry, and the registry that checks every entry against its kind.

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
# Shared pieces
class KeptGroup(BaseModel):
    """Data an erasure kept, and why (a legal hold, or a record the law requires the company to keep)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    category: str
    records: int
    reason: str
    reference: str | None
    promises: list[str]


class Attested(BaseModel):
    """Real-world states the caller attested (the engine cannot observe them), and who attested them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    by: str
    conditions: list[str]
    grounds: list[str]


class Notified(BaseModel):
    """A notice the engine queued for the person as an obligation of the decision."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    channel: str
    outbox: int


class Reach(BaseModel):
    """How many notices one channel queued, and how many people it could not reach."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    queued: int
    unreachable: int


# ---------------------------------------------------------------------------------------------------------------------
# Decisions and the data itself
@register
class DecisionEvent(AuditEvent):
    """A decision on a collection, use, share, marketing message or display, allowed or denied (the entry's
    ``allowed``), with the reasons' codes and the pack rules behind them. Written by every guarded path of the engine
    and by marketing; a denial is written in a transaction of its own, so it is evidence even though nothing else
    changed."""

    KIND: ClassVar[str] = "decision"
    action: str
    codes: list[str]
    rules: list[str] | None = None
    obligations: list[str] | None = None
    purpose: str | None = None
    categories: list[str] | None = None
    aggregate: bool | None = None
    context: str | None = None
    recipient: str | None = None
    de_identified: bool | None = None
    kind: str | None = None
    attested: Attested | None = None
    grounds_recorded: list[str] | None = None
    notified: Notified | None = None
    policy_version_carried: str | None = None
    channel: str | None = None
    topic: str | None = None
    source: str | None = None
    personalised: bool | None = None
    based_on: list[str] | None = None
    technology: str | None = None
    party: str | None = None
    lifetime: str | None = None
    placement: str | None = None


@register
class AggregateEvent(AuditEvent):
    """A statistic over many people (``PolicyEngine.aggregate``): what was counted, over how many people, in how many
    groups. No person's value is in it; groups too small to hide a person were withheld before it was written."""

    KIND: ClassVar[str] = "aggregate"
    purpose: str
    categories: list[str]
    aggregate: Literal[True]
    people: int
    groups: int


@register
class ExportEvent(AuditEvent):
    """A person's data was exported to them (access or portability): how many values."""

    KIND: ClassVar[str] = "export"
    values: int


@register
class CorrectionEvent(AuditEvent):
    """A held value was corrected: which category, how many records replaced."""

    KIND: ClassVar[str] = "correction"
    category: str
    replaced: int


@register
class RestrictionEvent(AuditEvent):
    """Processing of a person's data was restricted, or the restriction lifted."""

    KIND: ClassVar[str] = "restriction"
    restricted: bool


@register
class FactEvent(AuditEvent):
    """A fact was recorded in, or revoked from, the fact register (a subscription, an authorisation, a bound
    successor, an agreement ...): which fact, its argument, the party, and the register entry's id."""

    KIND: ClassVar[str] = "fact"
    fact: str
    arg: str
    party: str | None
    action: Literal["recorded", "revoked"]
    entry: int


@register
class TransferAssessmentEvent(AuditEvent):
    """A transfer impact assessment for a destination was recorded, with its outcome."""

    KIND: ClassVar[str] = "transfer_assessment"
    destination: str
    outcome: str
    assessment: int


@register
class ConsentEvent(AuditEvent):
    """A consent (or the policy's acceptance) was given, withdrawn or declined, for one target (a consent rule, a
    purpose, a recipient, or ``policy``). ``by`` says what carried the choice where it was not the person on a page
    (a Global Privacy Control signal, the app's settings, the consent script); ``method`` how the script obtained it."""

    KIND: ClassVar[str] = "consent"
    target: str
    action: str
    by: str | None = None
    method: str | None = None


# ---------------------------------------------------------------------------------------------------------------------
# Deletion
@register
class ErasureEvent(AuditEvent):
    """A person's data was erased (all of it, or the part one cause covers) by the deletion service: why, under
    which rule, how many records and keys went, whether the person is now wholly erased, what was kept and why, and
    whether backups are covered (their keys destroyed)."""

    KIND: ClassVar[str] = "erasure"
    reason: str
    cause: str
    rule: str | None
    records: int
    keys_destroyed: int
    erased: bool
    kept: list[KeptGroup]
    backups_covered: bool


@register
class DeletionQueuedEvent(AuditEvent):
    """A person was put on the deletion queue (a minor's data collected without the parental consent the pack
    requires)."""

    KIND: ClassVar[str] = "deletion_queued"
    reason: str


class _Blocked(AuditEvent):
    KIND: ClassVar[str] = "deletion_blocked"
    why: str


@register
class DeletionBlockedInQueue(_Blocked):
    """A queued deletion could not be carried out (a hold or a record the law keeps); it stays queued."""

    queue: int


@register
class DeletionBlockedOnWithdrawal(_Blocked):
    """Withdrawing a retroactive consent could not delete the data it covered; nothing was deleted."""

    cause: Literal["consent_withdrawn"]
    target: str


@register
class DeletionBlockedInSweep(_Blocked):
    """A retention sweep's rule met records it must not delete (held, or kept by law): how many, under which rule."""

    run: int
    rule: str
    held: int


# ---------------------------------------------------------------------------------------------------------------------
# Requests from people
class _Request(AuditEvent):
    KIND: ClassVar[str] = "request"
    request: str
    right: str | None
    """The right asked for; null for a question or a complaint, which exercise none."""


class RequestSays(BaseModel):
    """What the person's request says, without the words: whether it has a note, which category it corrects."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    note: bool
    corrects: str | None = None


@register
class RequestReceived(_Request):
    """A request was received: whether a code went out, the fee, how the address compares with those held, whether
    an agent made it."""

    event: Literal["received"]
    code_sent: bool
    fee: str
    address_match: str
    says: RequestSays | None = None
    agent: bool | None = None


@register
class RequestVerified(_Request):
    """The requester's identity was verified: by code, by the signed-in session, or by staff (with the method, the
    reference to their evidence and, for an agent, the proof of authority)."""

    event: Literal["verified"]
    method: str | None = None
    reference: str | None = None
    address_match: str | None = None
    mismatch_reason: str | None = None
    authority_reference: str | None = None


@register
class RequestCodeRejected(_Request):
    """A wrong code was given for the request: the attempts so far."""

    event: Literal["code_rejected"]
    attempts: int


@register
class RequestCodeResent(_Request):
    """A new code was sent for the request."""

    event: Literal["code_resent"]


@register
class RequestFulfilled(_Request):
    """The request was fulfilled, with what it did: the decision it rests on, the values exported, the category
    corrected, the purposes objected to, or (an erasure) the notices sent, the legal ground and what was kept."""

    event: Literal["fulfilled"]
    decision: str | None = None
    values: int | None = None
    corrected: str | None = None
    purposes: list[str] | None = None
    notices: int | None = None
    ground: str | None = None
    kept: list[KeptGroup] | None = None


@register
class RequestCompanyNotHeld(_Request):
    """The company's own databases (its dataset map) hold nothing for the person: which datasets were searched."""

    event: Literal["company_not_held"]
    datasets: list[str]
    reason: str | None = None


@register
class RequestCompanyErased(_Request):
    """The person was erased from the company's own databases: the rows changed per dataset (or, after a crash,
    the rows an earlier run had planned)."""

    event: Literal["company_erased"]
    rows: dict[str, int]
    by: str | None = None


@register
class RequestNoticesQueued(_Request):
    """The recipients the person's data was shared with were told to act on the request."""

    event: Literal["notices_queued"]
    recipients: list[str]


@register
class RequestExtended(_Request):
    """The deadline was extended: by how many days, why (staff's words), how late it already was, the date it was
    due before."""

    event: Literal["extended"]
    days: int
    reason: str
    overdue_days: int
    was_due: str | None


@register
class RequestRefused(_Request):
    """The request was refused, on a legal ground."""

    event: Literal["refused"]
    ground: str | None


@register
class RequestValuesRevealed(_Request):
    """Staff revealed the person's current values of these categories (the values are not in the entry)."""

    event: Literal["values_revealed"]
    categories: list[str]


@register
class RequestNoteAdded(_Request):
    """Staff added a note to the request (the entry holds how many notes there are, not the words)."""

    event: Literal["note_added"]
    note: int


@register
class AccessRefusedEvent(AuditEvent):
    """Someone tried to reach another person's data (a request reference that is not theirs): what, which
    reference, whether it is held by another person, and the way in. The other person's values are not in it."""

    KIND: ClassVar[str] = "access_refused"
    what: str
    ref: str
    held_by_another: bool
    via: str


# ---------------------------------------------------------------------------------------------------------------------
# Marketing
@register
class MessageEvent(AuditEvent):
    """A marketing message was queued: its kind, channel and topic, the purpose it serves and the outbox entry."""

    KIND: ClassVar[str] = "message"
    kind: str
    channel: str
    topic: str
    purpose: str | None
    outbox: int


@register
class TrackerEvent(AuditEvent):
    """A tracker (cookie, pixel, SDK) was registered, with what the pack requires to be disclosed about it."""

    KIND: ClassVar[str] = "tracker"
    event: Literal["registered"]
    tracker: int
    technology: str
    purpose: str
    party: str
    recipient: str | None
    lifetime: str
    placement: str


# ---------------------------------------------------------------------------------------------------------------------
# Retention and the life of a purpose, an account, the service
class _Lifecycle(AuditEvent):
    KIND: ClassVar[str] = "lifecycle"
    id: int
    purpose: str | None


@register
class PurposeEnded(_Lifecycle):
    """A purpose ended for a person (or for everyone): its retention clock starts."""

    event: Literal["purpose_ended"]


@register
class AccountCancelled(_Lifecycle):
    """A person's account was cancelled: the retention rules that start at cancellation apply."""

    event: Literal["account_cancelled"]


@register
class ServiceCeased(_Lifecycle):
    """The service ceased: the reference of the decision, when it was recorded, the channels people are told on."""

    event: Literal["service_ceased"]
    reference: str
    recorded_at: str
    channels: list[str]


@register
class HistoryCleared(_Lifecycle):
    """A person cleared their history: under which rule, how many records went and how many were kept."""

    event: Literal["history_cleared"]
    rule: str
    deleted: int
    kept: int


@register
class ServiceNoticeEvent(AuditEvent):
    """The notices of a service cessation went out: per channel, queued and unreachable."""

    KIND: ClassVar[str] = "service_notice"
    event: int
    notices: dict[str, Reach]


@register
class LegalHoldEvent(AuditEvent):
    """A legal hold was placed on or released from a person's records: the reference, the categories (or ``all``),
    how many records."""

    KIND: ClassVar[str] = "legal_hold"
    event: Literal["placed", "released"]
    reference: str
    categories: list[str] | Literal["all"]
    records: int


@register
class RetentionApplied(AuditEvent):
    """A retention sweep applied a rule's end action (delete, anonymise ...) to so many records."""

    KIND: ClassVar[str] = "retention"
    run: int
    rule: str
    action: str
    records: int


@register
class RetentionTakenOver(AuditEvent):
    """A sweep whose worker stopped was taken over by another run."""

    KIND: ClassVar[str] = "retention"
    run: int
    event: Literal["taken_over"]
    by: int


# ---------------------------------------------------------------------------------------------------------------------
# Incidents and breaches
class _Incident(AuditEvent):
    KIND: ClassVar[str] = "incident"
    incident: int


@register
class IncidentOpened(_Incident):
    """An incident was opened: the systems and categories involved, whether the company is liable."""

    event: Literal["opened"]
    systems: list[str]
    categories: list[str]
    liability: bool


@register
class IncidentStep(_Incident):
    """A response step the pack promises was recorded for the incident."""

    event: Literal["step"]
    step: str


@register
class IncidentNotified(_Incident):
    """The affected people were notified on a channel: how many are affected, queued, already told, unreachable,
    whether telling each was impractical (and a public announcement made instead), which contents were given."""

    event: Literal["notified"]
    channel: str
    affected: int
    queued: int
    already_notified: int
    unreachable: int
    impractical: bool
    announcement: bool
    content: list[str]


@register
class IncidentReported(_Incident):
    """The incident was reported to the regulator: people affected, notices sent, whether announced, whether it is
    the first report."""

    event: Literal["regulator_report"]
    people_affected: int
    individual_notices: int
    announcement: bool
    first: bool


@register
class IncidentClosed(_Incident):
    """The incident was closed (every promised step on record)."""

    event: Literal["closed"]


# ---------------------------------------------------------------------------------------------------------------------
# Policy versions, the organisation, messages, staff access
@register
class PolicyVersionEvent(AuditEvent):
    """A new version of the policy was published: its label and the one before, whether the change is significant,
    how many changes, the channels people were told on and how many were reached, when it takes effect."""

    KIND: ClassVar[str] = "policy_version"
    label: str
    previous: str | None
    significant: bool
    changes: int
    channels: list[str]
    emails: int
    pushes: int
    unreachable: int
    effective_at: str


@register
class DepartmentSet(AuditEvent):
    """The privacy department was recorded: how many roles and staff."""

    KIND: ClassVar[str] = "organisation"
    event: Literal["department_set"]
    roles: int
    staff: int


@register
class TrainingRecorded(AuditEvent):
    """A staff training session was recorded: its id, the day held, how many attended."""

    KIND: ClassVar[str] = "organisation"
    event: Literal["training_recorded"]
    session: int
    held_on: str
    attendance: int


@register
class OutboxEvent(AuditEvent):
    """A message in the outbox was sent (with its idempotency key, and whether a crash recovery found it sent),
    failed and will be retried, was dead-lettered, is of unknown fate (``unsure``), or was requeued by a person.
    ``recipient`` is the outbox's recipient id (a recipient's id, or a pseudonymous person's), never an address."""

    KIND: ClassVar[str] = "outbox"
    event: Literal["sent", "retry", "dead", "unsure", "requeued"]
    message: int
    recipient: str
    message_id: str | None = None
    recovered: bool | None = None
    attempts: int | None = None
    was: str | None = None


@register
class ApiKeyCreated(AuditEvent):
    """An API key was created for a staff role (the entry holds its id, never the secret)."""

    KIND: ClassVar[str] = "api_key"
    event: Literal["created"]
    key: str
    role: str


@register
class ApiKeyRevoked(AuditEvent):
    """An API key was revoked."""

    KIND: ClassVar[str] = "api_key"
    event: Literal["revoked"]
    key: str


@register
class SessionEvent(AuditEvent):
    """A person signed in to the privacy center: how, and whether the pack asks for it at every login."""

    KIND: ClassVar[str] = "session"
    event: Literal["signed_in"]
    by: str
    every_login: bool


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
        "The models are in `src/policykeeper/audit/_events.py`; this page is generated from them "
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
