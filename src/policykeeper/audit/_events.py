"""The audit event models: one per kind of audit entry (and one per shape where a kind has several), each registered
under its ``KIND`` in :mod:`policykeeper.audit._registry`, whose docstring says how entries are checked against them.
``docs/audit-events.md`` is generated from these models. The models of requests from people are in
:mod:`policykeeper.audit._request_events`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from ..store.marketing import TrackerTerms
from ._registry import AuditEvent, register

__all__ = ["AuditEvent", "register"]


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
class TrackerEvent(AuditEvent, TrackerTerms):
    """A tracker (cookie, pixel, SDK) was registered, with what the pack requires to be disclosed about it."""

    KIND: ClassVar[str] = "tracker"
    event: Literal["registered"]
    tracker: int


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
