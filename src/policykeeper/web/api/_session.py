"""People sign in and out: a code emailed to an address held for them opens a session."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from .._auth import MAX_EMAIL, PERSON_COOKIE, end_session, open_person_session, send_login_code
from .._limits import client_of
from ._common import Accepted, Body, Ctx, Id, Me

router = APIRouter()


# -- people: sign in ------------------------------------------------------------------------------------------------

class CodeIn(Body):
    identifier: Id = Field(description="Your identifier with the service (e.g. your account name or email).")
    email: Annotated[str, Field(min_length=3, max_length=MAX_EMAIL)]



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
    from ...i18n import parse_accept_language

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
