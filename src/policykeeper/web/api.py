"""The REST API, versioned under ``/v1``.

People (a session opened with an emailed code) reach ``/v1/session`` and ``/v1/me/...``: their own data, consents
and requests, never anyone else's. Staff and services (an API key bound to a role) reach the rest, each operation
guarded by one permission (see :data:`policykeeper.web._auth.ROLES`). A person's identifier travels only in request
bodies, never in a URL, so it never lands in an access log.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from .. import audit, consent
from ..engine import Facts
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
from ._errors import ApiError

__all__ = ["router"]

router = APIRouter(prefix="/v1")

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
CanKeysManage = Annotated[Staff, needs("keys:manage")]
CanRequestsAct = Annotated[Staff, needs("requests:act")]
CanRequestsRead = Annotated[Staff, needs("requests:read")]
CanRequestsVerify = Annotated[Staff, needs("requests:verify")]


def _iso(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).isoformat()
    return v


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
def ask_for_code(body: CodeIn, ctx: Ctx) -> dict[str, str]:
    """Email a sign-in code, if that address is held for you (the answer is the same either way)."""
    send_login_code(ctx, body.identifier, body.email)
    return {"message": "if that address is on record for you, a code is on its way"}


class SessionIn(Body):
    identifier: Id
    code: Annotated[str, Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")]


class SessionOut(BaseModel):
    token: str
    expires_in: int


@router.post("/session", response_model=SessionOut, tags=["people"])
def sign_in(body: SessionIn, ctx: Ctx, response: Response) -> dict[str, Any]:
    """Open a session with the code (a fresh code at every sign-in); also sets an HttpOnly cookie."""
    token = open_person_session(ctx, body.identifier, body.code)
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


class RequestIn(Body):
    right: Key | None = None
    kind: Literal["rights_request", "general_question", "complaint"] = "rights_request"
    email: Annotated[str, Field(min_length=3, max_length=254, description="Where the code and the answer go.")]


class TicketOut(BaseModel):
    ref: str
    status: str
    due_at: str | None
    deadline: str
    fee: str


@router.post("/me/requests", status_code=201, response_model=TicketOut, tags=["people"])
def my_new_request(body: RequestIn, me: Me, ctx: Ctx) -> dict[str, Any]:
    """Ask to exercise a right; a code goes to the address (if it is held for you) to confirm it."""
    t = ctx.requests().submit_for_subject(me.subject_id, body.right, email=body.email, kind=body.kind)
    return {"ref": t.ref, "status": t.status, "due_at": _iso(t.due_at), "deadline": t.deadline, "fee": t.fee}


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
    return {"ref": t.ref, "status": t.status, "due_at": _iso(t.due_at), "deadline": t.deadline, "fee": t.fee}


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
    replaced: int


@router.patch("/me/profile", response_model=ProfileOut, tags=["people"])
def my_profile(body: ProfileIn, me: Me, ctx: Ctx) -> dict[str, Any]:
    """Correct one of your details (fields the policy locks after registration are refused)."""
    eng = ctx.engine()
    locked = _locked_fields(ctx)
    if body.category in locked:
        raise ApiError(403, "denied", f"{body.category!r} cannot be changed after registration "
                       f"({', '.join(locked[body.category])})", "category")
    n = eng.correct_subject(me.subject_id, body.category, body.value, actor="subject")
    return {"category": body.category, "replaced": n}


def _locked_fields(ctx: WebContext) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    pack = ctx.engine().pack
    for right in () if isinstance(pack.rights, str) else pack.rights:
        for cat in right.locked_fields:
            found[str(cat)] = tuple(right.promises)
    return found


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

class FactsIn(Body):
    channel: Annotated[str, Field(max_length=32)] | None = None
    conditions: list[Key] = Field(default_factory=list, max_length=50)
    agreements: list[Key] = Field(default_factory=list, max_length=50)
    age: Annotated[int, Field(ge=0, le=150)] | None = None
    region: Key | None = None

    def facts(self) -> Facts:
        return Facts(channel=self.channel, conditions=frozenset(self.conditions),
                     agreements=frozenset(self.agreements), age=self.age, region=self.region)


class CollectIn(Body):
    person: Id
    context: Key
    values: dict[Key, Annotated[str, Field(max_length=10_000)]] = Field(min_length=1, max_length=100)
    facts: FactsIn = Field(default_factory=FactsIn)


class DecisionOut(BaseModel):
    decision: str
    allowed: bool
    promises: list[str]


class CollectOut(DecisionOut):
    records: int


@router.post("/collect", response_model=CollectOut, tags=["engine"])
def collect(body: CollectIn, ctx: Ctx, staff: CanDataCollect) -> dict[str, Any]:
    """Collect values for a person in a collection context, if the pack allows it (403 with the promises if not)."""
    got = ctx.engine().collect(body.person, body.context, body.values, body.facts.facts(), actor=f"key:{staff.key_id}")
    d = got.decision
    return {"decision": d.decision_id, "allowed": d.allowed, "promises": list(d.promises), "records": len(got.record_ids)}


class ReadIn(Body):
    person: Id
    purpose: Key
    categories: list[Key] = Field(min_length=1, max_length=100)
    facts: FactsIn = Field(default_factory=FactsIn)


class ValuesOut(BaseModel):
    values: dict[str, list[str]]


@router.post("/read", response_model=ValuesOut, tags=["engine"])
def read(body: ReadIn, ctx: Ctx, staff: CanDataRead) -> dict[str, Any]:
    """A guarded read: the person's values of some categories for one purpose, if the pack allows it."""
    return {"values": ctx.engine().read(body.person, body.purpose, set(body.categories), body.facts.facts(),
                                        actor=f"key:{staff.key_id}")}


class ShareIn(ReadIn):
    recipient: Key
    de_identify: bool = False


@router.post("/share", response_model=ValuesOut, tags=["engine"])
def share(body: ShareIn, ctx: Ctx, staff: CanDataShare) -> dict[str, Any]:
    """Share values with a recipient, if the pack allows it; the disclosure is logged."""
    return {"values": ctx.engine().share(body.person, body.recipient, set(body.categories), body.purpose,
                                         body.facts.facts(), de_identify=body.de_identify,
                                         actor=f"key:{staff.key_id}")}


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


@router.get("/requests", response_model=list[QueueItem], tags=["requests"])
def request_queue(ctx: Ctx, staff: CanRequestsRead) -> list[dict[str, Any]]:
    """Open requests, soonest deadline first, each overdue, due soon or on time."""
    return [_clean(r) for r in ctx.requests().open_requests()]


class StaffVerifyIn(Body):
    method: Key
    reference: Annotated[str, Field(min_length=1, max_length=120)]


@router.post("/requests/{ref}/verify", response_model=TicketOut, tags=["requests"])
def request_verify(ref: Ref, body: StaffVerifyIn, ctx: Ctx, staff: CanRequestsVerify) -> dict[str, Any]:
    """Verify a requester's identity by one of the pack's methods (evidence kept elsewhere, by reference)."""
    t = ctx.requests().verify_by_staff(ref, body.method, reference=body.reference, actor=f"key:{staff.key_id}")
    return {"ref": t.ref, "status": t.status, "due_at": _iso(t.due_at), "deadline": t.deadline, "fee": t.fee}


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
    return {"ref": t.ref, "status": t.status, "due_at": _iso(t.due_at), "deadline": t.deadline, "fee": t.fee}


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
