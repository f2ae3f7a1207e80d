"""The audit event models of requests from people (kind ``request``, one shape per step) and of refused access to
another person's data (kind ``access_refused``); the other kinds are in :mod:`policykeeper.audit._events`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from ._events import KeptGroup
from ._registry import AuditEvent, register


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
