"""The REST API, versioned under ``/v1``.

People (a session opened with an emailed code) reach ``/v1/session`` and ``/v1/me/...``: their own data, consents
and requests, never anyone else's. Staff and services (an API key bound to a role) reach the rest, each operation
guarded by one permission (see :data:`policykeeper.web._auth.ROLES`). A person's identifier travels only in request
bodies, never in a URL, so it never lands in an access log.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .. import audit, consent
from .._exceptions import BadValueError
from ..engine import Decision, Facts
from ..engine._facts import ATTESTED
from ..requests import MAX_NOTE, MAX_STAFF_NOTE, MAX_VALUE, QueueQuery, RequestContent, Ticket
from ._auth import (
    PERSON_COOKIE,
    Person,
    Staff,
    create_api_key,
    end_session,
    list_api_keys,
    open_person_session,
    person_from,
    revoke_api_key,
    send_login_code,
    staff_from,
)
from ._context import WebContext
from ._errors import ERROR_RESPONSES, ApiError
from ._limits import before_request, client_of
from ._signed_in import session_opened

__all__ = ["router"]

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)

Id = Annotated[str, Field(min_length=1, max_length=256)]
Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.:-]*$")]
Ref = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def ctx_of(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.pk
    return ctx


Ctx = Annotated[WebContext, Depends(ctx_of)]


def _person(request: Request, ctx: Ctx) -> Person:
    return person_from(request, ctx)


Me = Annotated[Person, Depends(_person)]


def needs(permission: str) -> Any:
    def dep(request: Request, ctx: Ctx) -> Staff:
        return staff_from(request, ctx, permission)

    return Depends(dep)


CanAuditVerify = Annotated[Staff, needs("audit:verify")]
CanConsentsRead = Annotated[Staff, needs("consents:read")]
CanConsentsWrite = Annotated[Staff, needs("consents:write")]
CanDataCollect = Annotated[Staff, needs("data:collect")]
CanDataRead = Annotated[Staff, needs("data:read")]
CanDataShare = Annotated[Staff, needs("data:share")]
CanFactsWrite = Annotated[Staff, needs("facts:write")]
CanKeysManage = Annotated[Staff, needs("keys:manage")]
CanRequestsAct = Annotated[Staff, needs("requests:act")]
CanRequestsRead = Annotated[Staff, needs("requests:read")]
CanRequestsVerify = Annotated[Staff, needs("requests:verify")]


def _iso(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).isoformat()
    return v


def _ticket(t: Ticket) -> dict[str, Any]:
    return {"ref": t.ref, "status": t.status, "due_at": _iso(t.due_at), "deadline": t.deadline, "fee": t.fee}


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) for k, v in row.items()}


# -- public ---------------------------------------------------------------------------------------------------------

class Health(BaseModel):
    status: Literal["ok"]
    pack: str
    version: str
    database: str


@router.get("/health", response_model=Health, tags=["public"])
def health(ctx: Ctx) -> dict[str, Any]:
    """The service is up; which pack (and version) it enforces."""
    info = ctx.info()
    return {"status": "ok", "pack": info["pack"], "version": info["version"], "database": info["database"]}


class PromiseOut(BaseModel):
    id: str
    tag: str
    statement: str


class PolicyOut(BaseModel):
    pack: str
    name: str
    version: str
    controller: str
    promises: list[PromiseOut]


@router.get("/policy", response_model=PolicyOut, tags=["public"])
def policy(ctx: Ctx) -> dict[str, Any]:
    """The policy in force: its version and every promise it makes."""
    pack = ctx.engine().pack
    return {"pack": pack.id, "name": pack.name, "version": pack.version.label, "controller": pack.controller.legal_name,
            "promises": [{"id": p.id, "tag": p.tag, "statement": p.statement} for p in pack.promises]}


# -- people: sign in ------------------------------------------------------------------------------------------------

class CodeIn(Body):
    identifier: Id = Field(description="Your identifier with the service (e.g. your account name or email).")
    email: Annotated[str, Field(min_length=3, max_length=254)]


class Accepted(BaseModel):
    message: str


@router.post("/session/code", status_code=202, response_model=Accepted, tags=["people"])
def ask_for_code(request: Request, body: CodeIn, ctx: Ctx) -> dict[str, str]:
    """Email a sign-in code, if that address is held for you (the answer is the same either way)."""
    send_login_code(ctx, body.identifier, body.email, client=client_of(request))
    return {"message": "if that address is on record for you, a code is on its way"}


class SessionIn(Body):
    identifier: Id
    code: Annotated[str, Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")]


class SessionOut(BaseModel):
    token: str
    expires_in: int


@router.post("/session", response_model=SessionOut, tags=["people"])
def sign_in(request: Request, body: SessionIn, ctx: Ctx, response: Response) -> dict[str, Any]:
    """Open a session with the code (a fresh code at every sign-in); also sets an HttpOnly cookie."""
    from ..i18n import parse_accept_language

    token = open_person_session(ctx, body.identifier, body.code, client=client_of(request),
                                language=parse_accept_language(request.headers.get("accept-language")))
    ttl = int(ctx.session_ttl.total_seconds())
    response.set_cookie(PERSON_COOKIE, token, max_age=ttl, httponly=True, samesite="strict", secure=ctx.secure_cookies)
    return {"token": token, "expires_in": ttl}


@router.delete("/session", status_code=204, tags=["people"])
def sign_out(request: Request, me: Me, ctx: Ctx) -> Response:
    """End the session."""
    auth = request.headers.get("authorization", "")
    end_session(ctx, auth[7:].strip() if auth.lower().startswith("bearer ") else request.cookies.get(PERSON_COOKIE, ""))
    response = Response(status_code=204)
    response.delete_cookie(PERSON_COOKIE)
    return response


# -- people: their own data -----------------------------------------------------------------------------------------

class Disclosure(BaseModel):
    recipient: str
    purpose: str
    at: str


class ValueOut(BaseModel):
    category: str
    category_name: str
    value: str
    purposes: list[str]
    source: str | None
    channel: str | None
    collected_at: str
    recipients: list[Disclosure]


class MeOut(BaseModel):
    pack: str
    version: str
    values: list[ValueOut]
    consents: dict[str, str]


def _consent_state(ctx: WebContext, subject_id: str) -> dict[str, str]:
    with ctx.db.connect() as conn:
        given, withdrawn = consent.state_as_of(conn, subject_id)
    return {**{t: "withdrawn" for t in sorted(withdrawn)}, **{t: "given" for t in sorted(given)}}


@router.get("/me", response_model=MeOut, tags=["people"])
def my_data(me: Me, ctx: Ctx) -> dict[str, Any]:
    """What is held about you, why (purposes), where it came from and who received it; your consents."""
    eng = ctx.engine()
    items = eng.export_subject(me.subject_id, actor="subject")
    values = [{k: it[k] for k in ("category", "category_name", "value", "purposes", "source", "channel",
                                  "collected_at", "recipients")} for it in items]
    return {"pack": eng.pack.id, "version": eng.pack.version.label, "values": values,
            "consents": _consent_state(ctx, me.subject_id)}


class ConsentIn(Body):
    action: Literal["given", "withdrawn"]


class ConsentOut(BaseModel):
    target: str
    action: str
    notice: str | None = Field(description="What withdrawing means, where the policy says (shown before confirming).")


@router.put("/me/consents/{target}", response_model=ConsentOut, tags=["people"])
def my_consent(target: Key, body: ConsentIn, me: Me, ctx: Ctx) -> dict[str, Any]:
    """Give or withdraw one of your consents."""
    eng = ctx.engine()
    notice = eng.refusal_notice(target) if body.action == "withdrawn" else None
    eng.record_subject_consent(me.subject_id, target, body.action, actor="subject")
    return {"target": target, "action": body.action, "notice": notice}


class CorrectionIn(Body):
    category: Key = Field(description="The item to correct: one of the pack's data categories, not a locked one.")
    value: Annotated[str, Field(min_length=1, max_length=MAX_VALUE, description="The value it should have.")]


class RequestIn(Body):
    right: Key | None = None
    kind: Literal["rights_request", "general_question", "complaint"] = "rights_request"
    email: Annotated[str, Field(min_length=3, max_length=254, description="Where the answer goes (and the code, "
                                "when one is needed).")]
    note: Annotated[str, Field(max_length=MAX_NOTE)] = Field(
        "", description="What you want, in your words (kept encrypted; staff handling the request read it).")
    correction: CorrectionIn | None = Field(None, description="For a correction: which item and its new value.")
    language: Annotated[str | None, Field(max_length=35, pattern=r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")] = Field(
        None, description="The language the mails about this request are written in (en, zh-Hans); without it, the "
                          "request's Accept-Language, then the policy's language.")


def _content(body: RequestIn, ctx: WebContext) -> RequestContent:
    """What the person says, checked against the pack: a bad part answers 422 naming it (``note``,
    ``correction.category``, ``correction.value``)."""
    said = RequestContent(body.note, body.correction.category if body.correction else None,
                          body.correction.value if body.correction else None)
    try:
        return said.checked(ctx.engine().pack, body.right)
    except BadValueError as exc:
        where = exc.message.split(":", 1)[0] if ":" in exc.message else "correction"
        raise ApiError(422, "invalid", exc.message, where) from None


class TicketOut(BaseModel):
    ref: str
    status: str
    due_at: str | None
    deadline: str
    fee: str


@router.post("/me/requests", status_code=201, response_model=TicketOut, tags=["people"])
def my_new_request(body: RequestIn, me: Me, ctx: Ctx, request: Request) -> dict[str, Any]:
    """Ask to exercise a right, with a note and (for a correction) the item and its new value. Your session proves
    who you are: with an address held for you the request is confirmed at once (status ``verified``) where the
    policy accepts a login as proof; otherwise a code goes to the address (if it is held for you) to confirm it."""
    said = _content(body, ctx)
    before_request(ctx, me.subject_id, body.email)
    from ..i18n import known, parse_accept_language

    language = known(body.language) or parse_accept_language(request.headers.get("accept-language"))
    t = ctx.requests().submit_for_subject(me.subject_id, body.right, email=body.email, kind=body.kind, content=said,
                                          signed_in=session_opened(ctx, me), language=language)
    return _ticket(t)


class RequestOut(BaseModel):
    ref: str
    kind: str
    right: str | None
    status: str
    received_at: str
    due_at: str | None
    deadline: str
    closed_at: str | None
    refusal_ground: str | None


def _mine(ctx: WebContext, me: Person, ref: str) -> dict[str, Any]:
    for r in ctx.requests().requests_of_subject(me.subject_id):
        if r["ref"] == ref:
            return _clean(r)
    ctx.requests().note_foreign_access(me.subject_id, ref, via="api")  # audited, without the other person's values
    raise ApiError(404, "not_found", f"you have no request {ref}")  # someone else's looks the same as none


@router.get("/me/requests", response_model=list[RequestOut], tags=["people"])
def my_requests(me: Me, ctx: Ctx) -> list[dict[str, Any]]:
    """Your requests, newest first."""
    return [_clean(r) for r in ctx.requests().requests_of_subject(me.subject_id)]


@router.get("/me/requests/{ref}", response_model=RequestOut, tags=["people"])
def my_request(ref: Ref, me: Me, ctx: Ctx) -> dict[str, Any]:
    """One of your requests."""
    return _mine(ctx, me, ref)


class CodeCheck(Body):
    code: Annotated[str, Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")]


@router.post("/me/requests/{ref}/verify", response_model=TicketOut, tags=["people"])
def my_request_verify(ref: Ref, body: CodeCheck, me: Me, ctx: Ctx) -> dict[str, Any]:
    """Confirm a request with the code emailed for it."""
    _mine(ctx, me, ref)
    t = ctx.requests().verify(ref, body.code)
    return _ticket(t)


@router.get("/me/requests/{ref}/export", tags=["people"],
            responses={200: {"content": {"application/zip": {}}, "description": "data.json and data.csv"}})
def my_export(ref: Ref, me: Me, ctx: Ctx) -> Response:
    """Download the export of a fulfilled access request (built now; no copy is kept)."""
    _mine(ctx, me, ref)
    data = ctx.requests().export_archive(ref)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="export-{ref}.zip"',
                             "Cache-Control": "no-store"})


class ProfileIn(Body):
    category: Key
    value: Annotated[str, Field(min_length=1, max_length=2000)]


class ProfileOut(BaseModel):
    category: str
    replaced: int = Field(description="How many values the new one replaced (0 while an email change waits).")
    pending: bool = Field(default=False, description="True for a new email address: a code went to that address, "
                                                     "and POST /v1/me/profile/email with it finishes the change.")


def _changed(call: Any) -> int | None:
    from .._exceptions import BadDetailError

    try:
        result: int | None = call()
    except BadDetailError as exc:
        raise ApiError(422, "invalid", exc.message, "value") from None
    return result


@router.patch("/me/profile", response_model=ProfileOut, tags=["people"])
def my_profile(body: ProfileIn, me: Me, ctx: Ctx, request: Request) -> dict[str, Any]:
    """Correct one of your details: the value must fit its kind (an email address, a phone number, a date of birth
    in the past as YYYY-MM-DD ...); fields the policy locks are refused. A new email address is not used until it is
    confirmed: a code goes to that address (``pending``), and ``POST /v1/me/profile/email`` finishes the change."""
    from ._pages import language_of
    from ._profile import change_detail

    n = _changed(lambda: change_detail(ctx, me.subject_id, body.category, body.value, language=language_of(request)))
    return {"category": body.category, "replaced": n or 0, "pending": n is None}


class EmailConfirm(Body):
    category: Key
    value: Annotated[str, Field(min_length=1, max_length=254, description="The new address, as sent before.")]
    code: Annotated[str, Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")]


@router.post("/me/profile/email", response_model=ProfileOut, tags=["people"])
def my_profile_email(body: EmailConfirm, me: Me, ctx: Ctx) -> dict[str, Any]:
    """Finish an email change with the code sent to the new address: it then replaces the old one."""
    from ._profile import confirm_email_change

    n = _changed(lambda: confirm_email_change(ctx, me.subject_id, body.category, body.value, body.code))
    return {"category": body.category, "replaced": n or 0, "pending": False}


class Closed(BaseModel):
    message: str


@router.post("/me/close", response_model=Closed, tags=["people"])
def close_account(request: Request, me: Me, ctx: Ctx) -> JSONResponse:
    """Close your account: data kept while you use the service falls to its retention rules; you are signed out."""
    from ..retention import cancel_account_subject

    cancel_account_subject(ctx.engine(), me.subject_id)
    auth = request.headers.get("authorization", "")
    end_session(ctx, auth[7:].strip() if auth.lower().startswith("bearer ") else request.cookies.get(PERSON_COOKIE, ""))
    response = JSONResponse({"message": "your account is closed"})
    response.delete_cookie(PERSON_COOKIE)
    return response


class UnsubscribeIn(Body):
    token: Annotated[str, Field(min_length=10, max_length=1000)]


@router.post("/unsubscribe", response_model=Accepted, tags=["people"])
def unsubscribe(body: UnsubscribeIn, ctx: Ctx) -> dict[str, str]:
    """Stop marketing, from the signed link in a message (service messages still come)."""
    from ..marketing import unsubscribe as do_unsubscribe

    do_unsubscribe(ctx.engine(), body.token)
    return {"message": "you will get no more marketing messages"}


# -- services: the engine ------------------------------------------------------------------------------------------

def _attested_only(value: str) -> str:
    head = value.partition(":")[0]
    if head not in ATTESTED:
        raise ValueError(f"{value!r} is a privileged fact: the engine derives it from its own records (the consent "
                         "ledger, the fact register, assessments), a caller cannot state it; attested conditions are "
                         + ", ".join(sorted(ATTESTED)))
    return value


def _no_agreements(value: list[str]) -> list[str]:
    if value:
        raise ValueError("agreements are privileged facts: record them in the fact register (POST /v1/facts, "
                         "fact 'agreement'), the engine reads them from there")
    return value


class FactsIn(Body):
    """Context only: the channel, the observed region, a stated age (it can only make a decision stricter) and
    conditions the caller attests (recorded with the API key). Privileged facts are refused with 422."""

    channel: Annotated[str, Field(max_length=32)] | None = None
    conditions: list[Annotated[Key, AfterValidator(_attested_only)]] = Field(default_factory=list, max_length=50)
    agreements: Annotated[list[Key], AfterValidator(_no_agreements)] = Field(default_factory=list, max_length=50)
    age: Annotated[int, Field(ge=0, le=150)] | None = None
    region: Key | None = None

    def facts(self) -> Facts:
        return Facts(channel=self.channel, conditions=frozenset(self.conditions), age=self.age, region=self.region)


class ObligationOut(BaseModel):
    kind: str
    value: str
    text: str
    by: Literal["engine", "caller"] = Field(description="engine: done as part of the action; caller: yours to do")
    for_person: bool


def _obligations(d: Decision) -> list[dict[str, Any]]:
    return [{"kind": o.kind, "value": o.value, "text": o.text, "by": o.by, "for_person": o.for_person}
            for o in d.obligations]


class CollectIn(Body):
    person: Id
    context: Key
    values: dict[Key, Annotated[str, Field(max_length=10_000)]] = Field(min_length=1, max_length=100)
    facts: FactsIn = Field(default_factory=FactsIn)


class DecisionOut(BaseModel):
    decision: str
    allowed: bool
    promises: list[str]
    obligations: list[ObligationOut] = Field(default_factory=list)


class CollectOut(DecisionOut):
    records: int


@router.post("/collect", response_model=CollectOut, tags=["engine"])
def collect(body: CollectIn, ctx: Ctx, staff: CanDataCollect) -> dict[str, Any]:
    """Collect values for a person in a collection context, if the pack allows it (403 with the promises if not)."""
    got = ctx.engine().collect(body.person, body.context, body.values, body.facts.facts(), actor=f"key:{staff.key_id}")
    d = got.decision
    return {"decision": d.decision_id, "allowed": d.allowed, "promises": list(d.promises), "records": len(got.record_ids),
            "obligations": _obligations(d)}


class ReadIn(Body):
    person: Id
    purpose: Key
    categories: list[Key] = Field(min_length=1, max_length=100)
    facts: FactsIn = Field(default_factory=FactsIn)


class ValuesOut(BaseModel):
    values: dict[str, list[str]]
    obligations: list[ObligationOut] = Field(default_factory=list, description="what the decision obliges: the "
                                             "caller's to show or do where by is caller (audited as handed over)")


@router.post("/read", response_model=ValuesOut, tags=["engine"])
def read(body: ReadIn, ctx: Ctx, staff: CanDataRead) -> dict[str, Any]:
    """A guarded read: the person's values of some categories for one purpose, if the pack allows it."""
    got = ctx.engine().read(body.person, body.purpose, set(body.categories), body.facts.facts(),
                            actor=f"key:{staff.key_id}")
    return {"values": dict(got), "obligations": _obligations(got.decision)}


class ShareIn(ReadIn):
    recipient: Key
    de_identify: bool = False


@router.post("/share", response_model=ValuesOut, tags=["engine"])
def share(body: ShareIn, ctx: Ctx, staff: CanDataShare) -> dict[str, Any]:
    """Share values with a recipient, if the pack allows it; the disclosure is logged."""
    got = ctx.engine().share(body.person, body.recipient, set(body.categories), body.purpose, body.facts.facts(),
                             de_identify=body.de_identify, actor=f"key:{staff.key_id}")
    return {"values": dict(got), "obligations": _obligations(got.decision)}


class PersonConsentIn(Body):
    person: Id
    target: Key
    action: Literal["given", "withdrawn", "refused", "accepted"]
    evidence: dict[Key, Annotated[str, Field(max_length=500)]] = Field(default_factory=dict, max_length=20)


class SeqOut(BaseModel):
    seq: int


@router.post("/consents", response_model=SeqOut, tags=["engine"])
def record_consent(body: PersonConsentIn, ctx: Ctx, staff: CanConsentsWrite) -> dict[str, Any]:
    """Record a consent given, withdrawn, refused or accepted in the hash-chained ledger."""
    return {"seq": ctx.engine().set_consent(body.person, body.target, body.action, evidence=body.evidence,
                                            actor=f"key:{staff.key_id}")}


class FactIn(Body):
    fact: Literal["subscribed", "product_authorized", "member", "transfer_informed", "consent_by_recipient",
                  "successor_bound", "agreement"]
    person: Id | None = None
    party: Key | None = None
    arg: Key | None = None
    reference: Annotated[str, Field(min_length=1, max_length=200)]
    revoke: bool = False


class FactOut(BaseModel):
    entry: int


@router.post("/facts", response_model=FactOut, tags=["engine"])
def record_fact(body: FactIn, ctx: Ctx, staff: CanFactsWrite) -> dict[str, Any]:
    """Record (or revoke) a privileged fact in the fact register, with the document behind it: a person's
    subscription, product authorisation, membership, informed transfer, a recipient's confirmed consent; and (privacy
    officers only) a recipient's agreement or a bound successor. The engine reads it from there; no caller states it."""
    if body.fact in ("successor_bound", "agreement") and not staff.can("facts:party"):
        raise ApiError(403, "forbidden", f"recording {body.fact!r} needs the privacy officer's role", "fact")
    entry = ctx.engine().record_fact(body.fact, person=body.person, party=body.party, arg=body.arg or "",
                                     reference=body.reference, revoke=body.revoke, actor=f"key:{staff.key_id}")
    return {"entry": entry}


class PersonIn(Body):
    person: Id


@router.post("/consents/receipt", tags=["engine"])
def consent_receipt(body: PersonIn, ctx: Ctx, staff: CanConsentsRead) -> dict[str, Any]:
    """A Kantara-style consent receipt for the person."""
    return ctx.engine().consent_receipt(body.person)


# -- staff: requests -----------------------------------------------------------------------------------------------

class QueueItem(BaseModel):
    ref: str
    kind: str
    right: str | None
    status: str
    received_at: str
    due_at: str | None
    deadline: str
    pack_version: str
    state: Literal["overdue", "due_soon", "on_time", "no_date"]
    address_match: Literal["matched", "not_held", "no_address", "no_person", "unknown"] = Field(
        description="Whether the request's address is one held for the person; anything but matched needs a "
                    "mismatch_reason to verify by staff")


class QueueRow(QueueItem):
    state: Literal["overdue", "due_soon", "on_time", "no_date", "closed"]  # type: ignore[assignment]
    closed_at: str | None
    days_left: int | None = Field(description="Whole days to the due date, negative when overdue; null without a "
                                              "date or once closed")
    requester: str = Field(description="The request's reply address, masked (z•••@e•••.cn)")


@router.get("/requests", response_model=list[QueueRow], tags=["requests"],
            responses={200: {"headers": {"X-Total-Count": {"description": "requests matching the filters, all pages",
                                                           "schema": {"type": "integer"}}}}})
def request_queue(
    ctx: Ctx, staff: CanRequestsRead, response: Response,
    status: Annotated[Literal["open", "closed", "all", "received", "verified", "extended", "fulfilled", "refused"],
                      Query(description="open (the default), closed, all, or one status")] = "open",
    right: Annotated[Key | None, Query(description="one right (access, delete, correct ...)")] = None,
    state: Annotated[Literal["overdue", "due_soon"] | None,
                     Query(description="open requests past their due date, or due within due_within_days")] = None,
    ref: Annotated[str | None, Query(max_length=32, pattern=r"^[0-9a-fA-F]+$",
                                     description="a reference, or its first characters")] = None,
    sort: Annotated[Literal["due", "received", "status"], Query()] = "due",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    due_within_days: Annotated[int, Query(ge=0, le=365)] = 3,
) -> list[dict[str, Any]]:
    """The request queue, one page: overdue requests first, then by due date (requests without a date after the
    dated ones), by receipt or by status. ``X-Total-Count`` says how many match in all."""
    page = ctx.requests().queue(QueueQuery(status=status, right=right, state=state, ref=ref or "", sort=sort,
                                           descending=order == "desc", limit=limit, offset=offset,
                                           due_within=dt.timedelta(days=due_within_days)))
    response.headers["X-Total-Count"] = str(page.total)
    return [_clean(r) for r in page.items]


class CorrectionOut(BaseModel):
    category: str
    value: str


class ContentOut(BaseModel):
    note: str
    correction: CorrectionOut | None


class EventOut(BaseModel):
    at: str
    event: str
    actor: str
    detail: dict[str, Any]
    note: str | None


class RequestDetailOut(BaseModel):
    ref: str
    kind: str
    right: str | None
    status: str
    received_at: str
    verified_at: str | None
    due_at: str | None
    deadline: str
    closed_at: str | None
    refusal_ground: str | None
    pack_version: str
    address_match: str
    requester: str | None = Field(description="The reply address, masked; null once the person was erased")
    content: ContentOut | None = Field(description="What the person said; null once the person was erased")
    timeline: list[EventOut]


@router.get("/requests/{ref}", response_model=RequestDetailOut, tags=["requests"])
def request_detail(ref: Ref, ctx: Ctx, staff: CanRequestsRead) -> dict[str, Any]:
    """One request: what the person said with it, the masked requester and every step so far (who, when, why)."""
    svc = ctx.requests()
    try:
        row = svc.get(ref)
    except BadValueError:
        raise ApiError(404, "not_found", f"no request {ref}") from None
    said = svc.content_of(ref)
    return {**{k: _iso(row[k]) for k in RequestDetailOut.model_fields if k in row},
            "requester": svc.requester(ref),
            "content": None if said is None else said.as_dict() | {"correction": said.as_dict().get("correction")},
            "timeline": [{"at": _iso(e.at), "event": e.event, "actor": e.actor, "detail": e.detail, "note": e.note}
                         for e in svc.timeline(ref)]}


class NoteIn(Body):
    text: Annotated[str, Field(min_length=1, max_length=MAX_STAFF_NOTE)]


class NoteOut(BaseModel):
    ref: str
    note: int


@router.post("/requests/{ref}/notes", status_code=201, response_model=NoteOut, tags=["requests"])
def request_note(ref: Ref, body: NoteIn, ctx: Ctx, staff: CanRequestsVerify) -> dict[str, Any]:
    """Add a staff note to a request (kept encrypted with it; the audit log says only that one was added)."""
    if not body.text.strip():
        raise ApiError(422, "invalid", "the note is empty", "text")
    return {"ref": ref, "note": ctx.requests().add_note(ref, body.text, actor=f"key:{staff.key_id}")}


class RevealIn(Body):
    categories: list[Key] = Field(default_factory=list, max_length=100,
                                  description="The items to show; none for every item held")


@router.post("/requests/{ref}/reveal", response_model=dict[str, list[str]], tags=["requests"])
def request_reveal(ref: Ref, body: RevealIn, ctx: Ctx, staff: CanRequestsAct) -> dict[str, list[str]]:
    """The requester's current values (for answering a correction, say). Every call is audited: who, when, which
    request and which items, never the values."""
    return ctx.requests().current_values(ref, tuple(body.categories), actor=f"key:{staff.key_id}")


class StaffVerifyIn(Body):
    method: Key
    reference: Annotated[str, Field(min_length=1, max_length=120)]
    mismatch_reason: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="Why go on when the request's address is not one held for the person (audited)")
    authority_reference: Annotated[str, Field(min_length=1, max_length=120)] | None = Field(
        None, description="For a request made by an agent: where the proof of the agent's authority (the person's "
                          "signed permission) is kept; required for those, recorded and audited")


@router.post("/requests/{ref}/verify", response_model=TicketOut, tags=["requests"])
def request_verify(ref: Ref, body: StaffVerifyIn, ctx: Ctx, staff: CanRequestsVerify) -> dict[str, Any]:
    """Verify a requester's identity by one of the pack's methods (evidence kept elsewhere, by reference)."""
    t = ctx.requests().verify_by_staff(ref, body.method, reference=body.reference,
                                       mismatch_reason=body.mismatch_reason,
                                       authority_reference=body.authority_reference, actor=f"key:{staff.key_id}")
    return _ticket(t)


class FulfilIn(Body):
    category: Key | None = None
    value: Annotated[str, Field(max_length=2000)] | None = None
    purposes: list[Key] = Field(default_factory=list, max_length=50)
    decision: Annotated[str, Field(max_length=64)] | None = None
    ground: Key | None = None


class FulfilOut(BaseModel):
    ref: str
    status: str
    detail: dict[str, Any]


@router.post("/requests/{ref}/fulfil", response_model=FulfilOut, tags=["requests"])
def request_fulfil(ref: Ref, body: FulfilIn, ctx: Ctx, staff: CanRequestsAct) -> dict[str, Any]:
    """Fulfil a verified request by its right: access (the person downloads the export), erasure, correction,
    restriction, objection or an explanation of an automated decision."""
    svc, actor = ctx.requests(), f"key:{staff.key_id}"
    right = svc.get(ref)["right"]
    if right in ("access", "copy", "portability"):
        detail: dict[str, Any] = {"values": svc.fulfil_access(ref, None, actor=actor)}
    elif right in ("delete", "erasure"):
        detail = {"erased": str(svc.fulfil_erasure(ref, ground=body.ground, actor=actor))}
    elif right in ("correct", "rectification"):
        said = svc.content_of(ref)
        if said is not None and said.category and body.category is None and body.value is None:
            body = body.model_copy(update={"category": said.category, "value": said.value})  # what the person asked
        if body.category is None or body.value is None:
            raise ApiError(422, "invalid", "a correction needs the category and the corrected value", "category")
        svc.fulfil_correction(ref, body.category, body.value, actor=actor)
        detail = {"corrected": body.category}
    elif right in ("restrict", "restriction", "object", "objection"):
        svc.fulfil_restriction(ref, purposes=tuple(body.purposes), actor=actor)
        detail = {"purposes": list(body.purposes) or "all"}
    elif right == "automated_decision_explanation":
        if not body.decision:
            raise ApiError(422, "invalid", "an explanation needs the decision id", "decision")
        detail = {"explanation": str(svc.fulfil_explanation(ref, body.decision, actor=actor))}
    else:
        raise ApiError(409, "conflict", f"requests for {right!r} are answered by refusing or extending, or by hand")
    return {"ref": ref, "status": svc.get(ref)["status"], "detail": detail}


class RefuseIn(Body):
    ground: Key


@router.post("/requests/{ref}/refuse", response_model=FulfilOut, tags=["requests"])
def request_refuse(ref: Ref, body: RefuseIn, ctx: Ctx, staff: CanRequestsAct) -> dict[str, Any]:
    """Refuse on one of the pack's grounds; the person is told why and where to complain."""
    svc = ctx.requests()
    svc.refuse(ref, body.ground, actor=f"key:{staff.key_id}")
    return {"ref": ref, "status": svc.get(ref)["status"], "detail": {"ground": body.ground}}


class ExtendIn(Body):
    days: Annotated[int, Field(ge=1, le=365)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


@router.post("/requests/{ref}/extend", response_model=TicketOut, tags=["requests"])
def request_extend(ref: Ref, body: ExtendIn, ctx: Ctx, staff: CanRequestsAct) -> dict[str, Any]:
    """Push the deadline back, with a reason the person is told."""
    t = ctx.requests().extend(ref, body.days, reason=body.reason, actor=f"key:{staff.key_id}")
    return _ticket(t)


# -- staff: evidence and keys --------------------------------------------------------------------------------------

class ChainOut(BaseModel):
    ok: bool
    entries: int
    problem: str | None


class VerifyOut(BaseModel):
    audit: ChainOut
    consents: ChainOut


def _chain(report: Any) -> dict[str, Any]:
    problem = None if report.ok else f"entry {report.first_bad_seq}: {report.reason}"
    return {"ok": bool(report.ok), "entries": int(report.entries), "problem": problem}


@router.get("/audit/verify", response_model=VerifyOut, tags=["evidence"])
def audit_verify(ctx: Ctx, staff: CanAuditVerify) -> dict[str, Any]:
    """Check the hash chains of the audit log and the consent ledger."""
    with ctx.db.connect() as conn:
        return {"audit": _chain(audit.verify(conn)), "consents": _chain(consent.verify(conn))}


class KeyIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    role: Literal["admin", "privacy_officer", "support_agent", "auditor", "service"]


class KeyOut(BaseModel):
    key: str
    message: str


class KeyInfo(BaseModel):
    id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None
    last_used_at: str | None


@router.post("/keys", status_code=201, response_model=KeyOut, tags=["keys"])
def new_key(body: KeyIn, ctx: Ctx, staff: CanKeysManage) -> dict[str, str]:
    """Create an API key for a role; it is shown once."""
    return {"key": create_api_key(ctx, body.name, body.role), "message": "keep this key: it is not shown again"}


@router.get("/keys", response_model=list[KeyInfo], tags=["keys"])
def keys(ctx: Ctx, staff: CanKeysManage) -> list[dict[str, Any]]:
    """Every key (never the secret)."""
    return [_clean(k) for k in list_api_keys(ctx)]


@router.delete("/keys/{key_id}", status_code=204, tags=["keys"])
def revoke_key(key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")], ctx: Ctx,
               staff: CanKeysManage) -> Response:
    """Revoke a key (and the console sessions opened with it)."""
    revoke_api_key(ctx, key_id)
    return Response(status_code=204)


# -- staff: the lifecycle -------------------------------------------------------------------------------------------

CanDataMap = Annotated[Staff, needs("data:map")]
CanEvidenceRead = Annotated[Staff, needs("evidence:read")]
CanIncidentsRead = Annotated[Staff, needs("incidents:read")]
CanIncidentsWrite = Annotated[Staff, needs("incidents:write")]
CanOutboxDeliver = Annotated[Staff, needs("outbox:deliver")]
CanRetentionRun = Annotated[Staff, needs("retention:run")]
CanVersionsPublish = Annotated[Staff, needs("versions:publish")]
CanVersionsRead = Annotated[Staff, needs("versions:read")]

MAX_PACK_YAML = 2_000_000
"""Largest pack text ``POST /v1/versions`` takes, in characters (its body limit is raised to match)."""

When = Annotated[dt.datetime, Field(description="ISO 8601 date-time; UTC when it names no zone.")]
IncidentId = Annotated[int, Field(ge=1, le=2_147_483_647)]
Text = Annotated[str, Field(max_length=5000)]


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    if at is None:
        return None
    try:
        return at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)
    except (OverflowError, ValueError):  # a date at the very edge of the calendar, moved past it by its zone
        raise ApiError(422, "invalid", "the date-time is out of range", None) from None


class RetentionIn(Body):
    dry_run: bool = Field(description="Count what would change; change nothing.")


class RuleOutcomeOut(BaseModel):
    rule: str
    action: str
    affected: int
    held: int
    skipped: str | None
    promises: list[str]


class SweepOut(BaseModel):
    run: int | None = Field(description="The run's id (none on a dry run).")
    dry_run: bool
    affected: int
    rules: list[RuleOutcomeOut]


@router.post("/retention/run", response_model=SweepOut, tags=["lifecycle"])
def retention_run(body: RetentionIn, ctx: Ctx, staff: CanRetentionRun) -> dict[str, Any]:
    """Apply every end-of-retention action that is due (the pack's periods and default end actions); a dry run only
    counts. Safe to re-run."""
    from ..retention import sweep

    report = sweep(ctx.engine(), dry_run=body.dry_run, actor=f"key:{staff.key_id}")
    return report.as_dict()


class ChangeOut(BaseModel):
    kind: str
    path: str
    description: str
    trigger: str | None
    significant: bool


class VersionOut(BaseModel):
    label: str
    notice_at: str
    effective_at: str
    significant: bool
    published_by: str
    channels: list[str]
    changes: list[ChangeOut]


@router.get("/versions", response_model=list[VersionOut], tags=["lifecycle"])
def list_versions(ctx: Ctx, staff: CanVersionsRead) -> list[dict[str, Any]]:
    """The published versions of the pack, oldest first (empty until a first new version is published)."""
    from ..versions import versions

    out = []
    for v in versions(ctx.engine()):
        changes = v["changes"] if isinstance(v["changes"], dict) else {}
        out.append({"label": v["label"], "notice_at": _iso(v["notice_at"]), "effective_at": _iso(v["effective_at"]),
                    "significant": bool(v["significant"]), "published_by": str(v["published_by"]),
                    "channels": [str(c) for c in changes.get("channels", [])],
                    "changes": [{k: c.get(k) for k in ("kind", "path", "description", "trigger", "significant")}
                                for c in changes.get("items", [])]})
    return out


class PublishIn(Body):
    pack_yaml: Annotated[str, Field(min_length=1, max_length=MAX_PACK_YAML,
                                    description="The new version of the pack, as YAML.")]
    effective_at: When | None = Field(default=None, description="Default: the version's own effective date, or now.")
    notice_at: When | None = Field(default=None, description="When people are told; default now.")
    explicit_consent: bool = Field(default=False, description="Acknowledge that a version reducing rights applies "
                                                              "to each person only once they explicitly agree.")


class PublishedOut(BaseModel):
    label: str
    notice_at: str
    effective_at: str
    significant: bool
    changes: list[ChangeOut]
    channels: list[str]
    emails: int
    unreachable: int
    explicit_consent_required: bool
    published_url: str | None
    promises: list[str]


@router.post("/versions", status_code=201, response_model=PublishedOut, tags=["lifecycle"])
def publish_version(body: PublishIn, ctx: Ctx, staff: CanVersionsPublish) -> dict[str, Any]:
    """Publish a new version of the pack: its diff, the pack's change rules (dates, advance notice, rights) and its
    notices (emails go through the outbox)."""
    from .._exceptions import PackError
    from ..pack import parse_pack
    from ..versions import publish

    try:
        new = parse_pack(body.pack_yaml, "pack_yaml")
    except PackError as exc:
        first = exc.issues[0] if exc.issues else exc.message
        raise ApiError(422, exc.code, str(first), "body.pack_yaml") from None
    got = publish(ctx.engine(), new, effective_at=_aware(body.effective_at), notice_at=_aware(body.notice_at),
                  explicit_consent=body.explicit_consent, actor=f"key:{staff.key_id}")
    return {"label": got.label, "notice_at": _iso(got.notice_at), "effective_at": _iso(got.effective_at),
            "significant": got.significant,
            "changes": [{"kind": c.kind, "path": c.path, "description": c.description, "trigger": c.trigger,
                         "significant": c.significant} for c in got.changes],
            "channels": list(got.channels), "emails": got.emails, "unreachable": got.unreachable,
            "explicit_consent_required": got.explicit_consent_required, "published_url": got.published_url,
            "promises": list(got.promises)}


class NoticeOut(BaseModel):
    label: str
    notice: str


@router.get("/versions/{label}/notice", response_model=NoticeOut, tags=["lifecycle"])
def version_notice(label: Annotated[str, Field(min_length=1, max_length=64)], ctx: Ctx,
                   staff: CanVersionsRead) -> dict[str, str]:
    """The notice text of a published version (what changes, when it takes effect); no personal data."""
    from .._exceptions import BadValueError
    from ..versions import notice_for

    try:
        return {"label": label, "notice": notice_for(ctx.engine(), label)}
    except BadValueError:
        raise ApiError(404, "not_found", f"no version {label!r} was published") from None


class StepOut(BaseModel):
    step: str
    at: str
    actor: str
    reference: str


class IncidentOut(BaseModel):
    id: int
    reference: str
    status: str
    opened_at: str
    started_at: str
    ended_at: str | None
    closed_at: str | None
    systems: list[str]
    categories: list[str]
    harm_to_subjects: bool
    liability: bool
    steps: list[StepOut]
    required_steps: list[str]


def _incident_out(ctx: WebContext, row: dict[str, Any]) -> dict[str, Any]:
    from ..incidents import required_steps

    return {"id": int(row["id"]), "reference": row["reference"], "status": row["status"],
            "opened_at": _iso(row["opened_at"]), "started_at": _iso(row["started_at"]),
            "ended_at": _iso(row["ended_at"]), "closed_at": _iso(row["closed_at"]),
            "systems": list(row["systems"]), "categories": list(row["categories"]),
            "harm_to_subjects": bool(row["harm_to_subjects"]), "liability": bool(row["liability"]),
            "steps": [{"step": s["step"], "at": s["at"], "actor": s["actor"], "reference": s["reference"]}
                      for s in row["steps"]],
            "required_steps": list(required_steps(ctx.engine()))}


def _incident(ctx: WebContext, incident_id: int) -> dict[str, Any]:
    from sqlalchemy import select

    from ..store._schema import incidents

    with ctx.db.connect() as conn:
        row = conn.execute(select(incidents).where(incidents.c.id == incident_id,
                                                   incidents.c.pack_id == ctx.pack.id)).mappings().first()
    if row is None:
        raise ApiError(404, "not_found", f"no incident {incident_id}")
    return dict(row)


@router.get("/incidents", response_model=list[IncidentOut], tags=["incidents"])
def list_incidents(ctx: Ctx, staff: CanIncidentsRead) -> list[dict[str, Any]]:
    """Every security incident on record, newest first."""
    from sqlalchemy import select

    from ..store._schema import incidents

    with ctx.db.connect() as conn:
        rows = conn.execute(select(incidents).where(incidents.c.pack_id == ctx.pack.id)
                            .order_by(incidents.c.id.desc())).mappings().all()
    return [_incident_out(ctx, dict(r)) for r in rows]


class IncidentIn(Body):
    started_at: When
    ended_at: When | None = None
    systems: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(min_length=1, max_length=50)
    categories: list[Key] = Field(default_factory=list, max_length=100)
    reference: Annotated[str, Field(min_length=1, max_length=120, description="A ticket or report id, never "
                                                                              "personal data.")]
    harm_to_subjects: bool = False


@router.post("/incidents", status_code=201, response_model=IncidentOut, tags=["incidents"])
def new_incident(body: IncidentIn, ctx: Ctx, staff: CanIncidentsWrite) -> dict[str, Any]:
    """Open an incident record: its window, the systems and data categories involved, and a reference."""
    from ..incidents import record_incident

    started = _aware(body.started_at)
    assert started is not None
    iid = record_incident(ctx.engine(), started_at=started, ended_at=_aware(body.ended_at), systems=body.systems,
                          categories=body.categories, reference=body.reference,
                          harm_to_subjects=body.harm_to_subjects, actor=f"key:{staff.key_id}")
    return _incident_out(ctx, _incident(ctx, iid))


@router.get("/incidents/{incident_id}", response_model=IncidentOut, tags=["incidents"])
def show_incident(incident_id: IncidentId, ctx: Ctx, staff: CanIncidentsRead) -> dict[str, Any]:
    """One incident record with its steps."""
    return _incident_out(ctx, _incident(ctx, incident_id))


class StepIn(Body):
    step: Key
    reference: Annotated[str, Field(min_length=1, max_length=120)]


@router.post("/incidents/{incident_id}/steps", response_model=IncidentOut, tags=["incidents"])
def incident_step(incident_id: IncidentId, body: StepIn, ctx: Ctx, staff: CanIncidentsWrite) -> dict[str, Any]:
    """Record that one of the steps the pack promises for every incident was done."""
    from ..incidents import incident_step as record_step

    _incident(ctx, incident_id)
    record_step(ctx.engine(), incident_id, body.step, reference=body.reference, actor=f"key:{staff.key_id}")
    return _incident_out(ctx, _incident(ctx, incident_id))


class CloseIncidentIn(Body):
    ended_at: When | None = None


@router.post("/incidents/{incident_id}/close", response_model=IncidentOut, tags=["incidents"])
def incident_close(incident_id: IncidentId, body: CloseIncidentIn, ctx: Ctx,
                   staff: CanIncidentsWrite) -> dict[str, Any]:
    """Close an incident once every promised step is on record."""
    from ..incidents import close_incident

    _incident(ctx, incident_id)
    close_incident(ctx.engine(), incident_id, ended_at=_aware(body.ended_at), actor=f"key:{staff.key_id}")
    return _incident_out(ctx, _incident(ctx, incident_id))


class NotifyIn(Body):
    what_happened: Text = ""
    possible_impact: Text = ""
    measures: Text = ""
    advice: Text = ""
    remedies: Text = ""
    channel: Literal["email", "push"] = "email"
    impractical: bool = Field(default=False, description="Individual notice is impractical: make the public "
                                                         "announcement instead (where the pack promises one).")


class NoticeRunOut(BaseModel):
    incident: int
    channel: str
    affected: int
    queued: int
    already_notified: int
    unreachable: int
    announcement: str | None


@router.post("/incidents/{incident_id}/notify", response_model=NoticeRunOut, tags=["incidents"])
def incident_notify(incident_id: IncidentId, body: NotifyIn, ctx: Ctx, staff: CanIncidentsWrite) -> dict[str, Any]:
    """Queue one notice to each affected, reachable person (never twice), with the content the pack requires;
    deliver with ``POST /v1/outbox/deliver``."""
    from ..incidents import notify_affected

    _incident(ctx, incident_id)
    run = notify_affected(ctx.engine(), incident_id, what_happened=body.what_happened,
                          possible_impact=body.possible_impact, measures=body.measures, advice=body.advice,
                          remedies=body.remedies, channel=body.channel, impractical=body.impractical,
                          actor=f"key:{staff.key_id}")
    return {"incident": run.incident_id, "channel": run.channel, "affected": run.affected, "queued": run.queued,
            "already_notified": run.already_notified, "unreachable": run.unreachable,
            "announcement": run.announcement}


@router.get("/incidents/{incident_id}/report", tags=["incidents"])
def incident_report(incident_id: IncidentId, ctx: Ctx, staff: CanIncidentsRead) -> dict[str, Any]:
    """The regulator's report of an incident and its handling, as a preview (no personal values); ``POST`` records
    that it was reported."""
    from ..incidents import regulator_report

    _incident(ctx, incident_id)
    return regulator_report(ctx.engine(), incident_id, record=False, actor=f"key:{staff.key_id}")


@router.post("/incidents/{incident_id}/report", tags=["incidents"])
def incident_report_record(incident_id: IncidentId, ctx: Ctx, staff: CanIncidentsWrite) -> dict[str, Any]:
    """The regulator's report, recorded as sent to the regulator (the first time) and audited."""
    from ..incidents import regulator_report

    _incident(ctx, incident_id)
    return regulator_report(ctx.engine(), incident_id, record=True, actor=f"key:{staff.key_id}")


class MapRecipient(BaseModel):
    id: str
    name: str
    third_party: bool
    regions: list[str] = Field(description="Where the recipient processes the data; empty where the policy is silent.")


class MapPurpose(BaseModel):
    id: str
    name: str
    legal_basis: str
    recipients: list[MapRecipient]


class MapCategory(BaseModel):
    id: str
    name: str
    purposes: list[MapPurpose]


class DataMapOut(BaseModel):
    pack: str
    version: str
    storage_regions: list[str] = Field(description="Where the controller keeps the data; empty where unspecified.")
    categories: list[MapCategory]


@router.get("/datamap", response_model=DataMapOut, tags=["evidence"])
def datamap(ctx: Ctx, staff: CanDataMap) -> dict[str, Any]:
    """What the pack says happens to each data category: the purposes that may use it, the recipients that may get
    it for each purpose, and where they process it."""
    pack = ctx.engine().pack
    storage = [] if isinstance(pack.storage, str) or isinstance(pack.storage.home_regions, str) \
        else list(pack.storage.home_regions)
    cats = []
    for cat in pack.data_categories:
        purposes = []
        for p in pack.purposes.items:
            if p.categories != "any_declared" and cat.id not in p.categories:
                continue
            recipients = [{"id": r.id, "name": r.name, "third_party": r.third_party,
                           "regions": [] if r.place_of_processing == "unspecified" else [r.place_of_processing]}
                          for r in pack.recipients
                          if p.id in r.purposes and (isinstance(r.categories, str) or cat.id in r.categories)]
            purposes.append({"id": p.id, "name": p.name, "legal_basis": p.legal_basis, "recipients": recipients})
        cats.append({"id": cat.id, "name": cat.name, "purposes": purposes})
    return {"pack": pack.id, "version": pack.version.label, "storage_regions": storage, "categories": cats}


class EvidencePromise(BaseModel):
    id: str
    tag: str
    statement: str
    rules: list[str] = Field(description="The pack locations (dotted paths) of the rules that encode the promise.")


class EvidenceOut(BaseModel):
    pack: str
    version: str
    total: int
    encoded: int
    missing: list[str]
    promises: list[EvidencePromise]


@router.get("/evidence", response_model=EvidenceOut, tags=["evidence"])
def evidence(ctx: Ctx, staff: CanEvidenceRead) -> dict[str, Any]:
    """Every promise of the policy in force with the rules of the pack that encode it."""
    from ..pack import coverage

    pack = ctx.engine().pack
    cov = coverage(pack)
    return {"pack": pack.id, "version": pack.version.label, "total": cov.total, "encoded": len(cov.encoded),
            "missing": list(cov.missing),
            "promises": [{"id": p.id, "tag": p.tag, "statement": p.statement, "rules": list(cov.rules.get(p.id, ()))}
                         for p in pack.promises]}


class DeliveredOut(BaseModel):
    sent: int
    retry: int
    dead: int
    unsure: int = Field(description="claimed by a worker that died while sending: maybe sent, never re-sent by itself")


@router.post("/outbox/deliver", response_model=DeliveredOut, tags=["lifecycle"])
def outbox_deliver(ctx: Ctx, staff: CanOutboxDeliver) -> dict[str, int]:
    """Send every due message in the outbox (to people by email; to recipients by their email route); failures are
    retried later with a growing delay, then dead-lettered."""
    from ..notify import RoutedTransport, deliver

    eng = ctx.engine()
    return deliver(ctx.db, ctx.keys, RoutedTransport(ctx.mailer), pack_version=eng.compiled.version,
                   actor=f"key:{staff.key_id}")


# -- organisational measures (KAMOER-41) -----------------------------------------------------------------------------

CanOrganisationWrite = Annotated[Staff, needs("organisation:write")]


class RoleOut(BaseModel):
    role: str
    count: int


class DepartmentOut(BaseModel):
    name: str
    contact: str
    roles: list[RoleOut]
    updated_at: dt.datetime


class TrainingOut(BaseModel):
    id: int
    held_on: dt.date
    topic: str
    attendance: int


class OrganisationOut(BaseModel):
    department: DepartmentOut | None
    training: list[TrainingOut]
    status: dict[str, Any] = Field(description="The last session, the recurrence (and whether the pack or the "
                                               "operator states it), when the next is due and whether it is overdue.")


def _organisation(ctx: WebContext) -> dict[str, Any]:
    from ..organisation import department, training_sessions_of, training_status

    eng = ctx.engine()
    return {"department": department(eng), "training": training_sessions_of(eng),
            "status": training_status(eng, ctx.recurrence).as_dict()}


@router.get("/organisation", response_model=OrganisationOut, tags=["evidence"])
def organisation(ctx: Ctx, staff: CanEvidenceRead) -> dict[str, Any]:
    """The privacy department (members by role, never by name) and staff training, with the recurrence check."""
    return _organisation(ctx)


class DepartmentIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    contact: Annotated[str, Field(min_length=3, max_length=254, description="The department's functional address "
                                                                            "(email or https page), not a person's.")]
    roles: dict[Annotated[str, Field(min_length=1, max_length=100)], Annotated[int, Field(ge=1, le=100_000)]] = Field(
        min_length=1, max_length=100, description="Role title -> head count. Role titles only: no staff names.")


@router.put("/organisation/department", response_model=OrganisationOut, tags=["evidence"])
def put_department(body: DepartmentIn, ctx: Ctx, staff: CanOrganisationWrite) -> dict[str, Any]:
    """Record (or replace) the privacy department."""
    from ..organisation import set_department

    set_department(ctx.engine(), name=body.name, contact=body.contact, roles=body.roles, actor=f"key:{staff.key_id}")
    return _organisation(ctx)


class TrainingIn(Body):
    held_on: dt.date
    topic: Annotated[str, Field(min_length=1, max_length=200)]
    attendance: Annotated[int, Field(ge=1, le=1_000_000, description="How many staff attended (a count).")]


@router.post("/organisation/training", status_code=201, response_model=OrganisationOut, tags=["evidence"])
def post_training(body: TrainingIn, ctx: Ctx, staff: CanOrganisationWrite) -> dict[str, Any]:
    """Record a staff training session."""
    from ..organisation import record_training

    record_training(ctx.engine(), held_on=body.held_on, topic=body.topic, attendance=body.attendance,
                    actor=f"key:{staff.key_id}")
    return _organisation(ctx)
