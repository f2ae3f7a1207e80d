"""People's own data: what is held, their consents, requests, profile, closing the account, unsubscribing."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ... import consent
from ..._exceptions import BadValueError
from ...engine._values import MAX_TEXT
from ...requests import MAX_NOTE, MAX_VALUE, RequestContent
from .._auth import (
    MAX_EMAIL,
    PERSON_COOKIE,
    Person,
    end_session,
)
from .._context import WebContext
from .._errors import ApiError
from .._limits import before_request
from .._signed_in import session_opened
from ._common import (
    Accepted,
    Body,
    Ctx,
    Key,
    Me,
    Ref,
    RequestSummary,
    TicketOut,
    clean,
    ticket,
)

router = APIRouter()


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
    email: Annotated[str, Field(min_length=3, max_length=MAX_EMAIL, description="Where the answer goes (and the code, "
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



@router.post("/me/requests", status_code=201, response_model=TicketOut, tags=["people"])
def my_new_request(body: RequestIn, me: Me, ctx: Ctx, request: Request) -> dict[str, Any]:
    """Ask to exercise a right, with a note and (for a correction) the item and its new value. Your session proves
    who you are: with an address held for you the request is confirmed at once (status ``verified``) where the
    policy accepts a login as proof; otherwise a code goes to the address (if it is held for you) to confirm it."""
    said = _content(body, ctx)
    before_request(ctx, me.subject_id, body.email)
    from ...i18n import known, parse_accept_language

    language = known(body.language) or parse_accept_language(request.headers.get("accept-language"))
    t = ctx.requests().submit_for_subject(me.subject_id, body.right, email=body.email, kind=body.kind, content=said,
                                          signed_in=session_opened(ctx, me), language=language)
    return ticket(t)


class RequestOut(RequestSummary):
    closed_at: str | None
    refusal_ground: str | None


def _mine(ctx: WebContext, me: Person, ref: str) -> dict[str, Any]:
    for r in ctx.requests().requests_of_subject(me.subject_id):
        if r["ref"] == ref:
            return clean(r)
    ctx.requests().note_foreign_access(me.subject_id, ref, via="api")  # audited, without the other person's values
    raise ApiError(404, "not_found", f"you have no request {ref}")  # someone else's looks the same as none


@router.get("/me/requests", response_model=list[RequestOut], tags=["people"])
def my_requests(me: Me, ctx: Ctx) -> list[dict[str, Any]]:
    """Your requests, newest first."""
    return [clean(r) for r in ctx.requests().requests_of_subject(me.subject_id)]


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
    return ticket(t)


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
    value: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class ProfileOut(BaseModel):
    category: str
    replaced: int = Field(description="How many values the new one replaced (0 while an email change waits).")
    pending: bool = Field(default=False, description="True for a new email address: a code went to that address, "
                                                     "and POST /v1/me/profile/email with it finishes the change.")


def _changed(call: Any) -> int | None:
    from ..._exceptions import BadDetailError

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
    from .._pages import language_of
    from .._profile import change_detail

    n = _changed(lambda: change_detail(ctx, me.subject_id, body.category, body.value, language=language_of(request)))
    return {"category": body.category, "replaced": n or 0, "pending": n is None}


class EmailConfirm(Body):
    category: Key
    value: Annotated[str, Field(min_length=1, max_length=MAX_EMAIL, description="The new address, as sent before.")]
    code: Annotated[str, Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")]


@router.post("/me/profile/email", response_model=ProfileOut, tags=["people"])
def my_profile_email(body: EmailConfirm, me: Me, ctx: Ctx) -> dict[str, Any]:
    """Finish an email change with the code sent to the new address: it then replaces the old one."""
    from .._profile import confirm_email_change

    n = _changed(lambda: confirm_email_change(ctx, me.subject_id, body.category, body.value, body.code))
    return {"category": body.category, "replaced": n or 0, "pending": False}


class Closed(BaseModel):
    message: str


@router.post("/me/close", response_model=Closed, tags=["people"])
def close_account(request: Request, me: Me, ctx: Ctx) -> JSONResponse:
    """Close your account: data kept while you use the service falls to its retention rules; you are signed out."""
    from ...retention import cancel_account_subject

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
    from ...marketing import unsubscribe as do_unsubscribe

    do_unsubscribe(ctx.engine(), body.token)
    return {"message": "you will get no more marketing messages"}
