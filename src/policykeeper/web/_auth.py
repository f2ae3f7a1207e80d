"""Who is asking: staff and services by API key (each bound to one role), people by a session opened with a one-time
code sent to an address held for them.

* API keys look like ``pkk_<id>_<secret>``; only a keyed hash of the secret is stored, the key is shown once.
  A key's role grants a fixed set of permissions (:data:`ROLES`), least privilege first.
* People sign in with their identifier and an email address held for them: a six-digit code goes to that address
  (and only if it is held: the answer is the same either way), and the code opens a session. Every sign-in needs a
  fresh code; where the pack verifies identity at every login (``every_login``), a sign-in also ends the person's
  earlier sessions; a code allows :data:`MAX_CODE_ATTEMPTS` tries and lives :data:`CODE_TTL`. Asks are limited per
  identifier and address, per address and per client (:mod:`._limits`), never in a way a stranger can use to
  cancel someone's code or lock them out, and step 2 answers the same whatever was guessed.
* Sessions are random tokens (``pks_...``) kept as keyed hashes, sent as an HttpOnly, SameSite=Strict cookie or as a
  bearer token; staff can also sign in to the console with their key (``pkc_...``, a session bound to the key).
* Forms that change something carry a CSRF token derived from the session (:func:`csrf_token`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import asdict, dataclass
from typing import Any, Literal

from fastapi import Request

from .. import audit
from .._exceptions import ConfigError
from ..clock import utc
from ..store import languages as language_store
from ..store import web as web_store
from ._context import WebContext
from ._errors import ApiError
from ._i18n import gettext_for
from ._limits import throttle

__all__ = [
    "CODE_TTL",
    "MAX_CODE_ATTEMPTS",
    "MAX_EMAIL",
    "MAX_IDENTIFIER",
    "MAX_KEY_NAME",
    "PERSON_COOKIE",
    "ROLES",
    "STAFF_COOKIE",
    "Person",
    "Staff",
    "check_csrf",
    "create_api_key",
    "csrf_token",
    "end_session",
    "list_api_keys",
    "open_person_session",
    "open_staff_session",
    "person_from",
    "revoke_api_key",
    "send_login_code",
    "staff_from",
]

Role = Literal["admin", "privacy_officer", "support_agent", "auditor", "service"]

_READ = {"requests:read", "consents:read", "data:map", "incidents:read", "versions:read", "audit:verify",
         "evidence:read"}
ROLES: dict[str, frozenset[str]] = {
    "auditor": frozenset(_READ),
    "support_agent": frozenset({"requests:read", "requests:verify", "consents:read"}),
    "privacy_officer": frozenset(_READ | {"requests:verify", "requests:act", "incidents:write", "versions:publish",
                                          "retention:run", "outbox:deliver", "organisation:write", "facts:write",
                                          "facts:party"}),
    "service": frozenset({"data:collect", "data:read", "data:share", "consents:read", "consents:write",
                          "facts:write"}),
}
ROLES["admin"] = frozenset(set().union(*ROLES.values()) | {"keys:manage"})
"""Permissions of each role: auditors read, support agents see the queue and verify identities, privacy officers
decide requests and run the lifecycle, services (the company's own backend) collect, read and share through the
engine, and admins do all of it and manage keys."""

log = logging.getLogger("policykeeper.web")

PERSON_COOKIE = "pk_session"
STAFF_COOKIE = "pk_staff"
CODE_TTL = dt.timedelta(minutes=15)
MAX_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class Staff:
    """A caller with an API key (directly or through a console session)."""

    key_id: str
    name: str
    role: str

    def can(self, permission: str) -> bool:
        return permission in ROLES.get(self.role, frozenset())


@dataclass(frozen=True)
class Person:
    """A signed-in person: their pseudonymous subject id and the session that proves it."""

    subject_id: str
    session_id: str


def _secret_hash(ctx: WebContext, text: str) -> str:
    return hmac.new(ctx.keys.derive_key("web-credentials"), text.encode(), hashlib.sha256).hexdigest()


# -- API keys ------------------------------------------------------------------------------------------------------

MAX_KEY_NAME = 100
"""Longest name :func:`create_api_key` takes for a key (characters)."""


def create_api_key(ctx: WebContext, name: str, role: str, *, now: dt.datetime | None = None) -> str:
    """A new key for ``role``; returns the key, which is not kept and cannot be shown again."""
    now = ctx.clock.at(now)
    if role not in ROLES:
        raise ApiError(422, "invalid", f"role must be one of {', '.join(sorted(ROLES))}, not {role!r}", "role")
    if not name.strip() or len(name) > MAX_KEY_NAME:
        raise ApiError(422, "invalid", f"a key needs a name (1 to {MAX_KEY_NAME} characters) saying whose it is",
                       "name")
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
    with ctx.db.begin() as conn:
        web_store.insert_api_key(conn, key_id=key_id, name=name.strip(), role=role,
                                 secret_hash=_secret_hash(ctx, secret), created_at=now)
        audit.record(conn, kind="api_key", actor="admin", at=now, detail={"event": "created", "key": key_id,
                                                                          "role": role})
    return f"pkk_{key_id}_{secret}"


def list_api_keys(ctx: WebContext) -> list[dict[str, Any]]:
    with ctx.db.connect() as conn:
        return [asdict(k) for k in web_store.api_keys_listed(conn)]


def revoke_api_key(ctx: WebContext, key_id: str, *, now: dt.datetime | None = None) -> None:
    now = ctx.clock.at(now)
    with ctx.db.begin() as conn:
        if not web_store.revoke_api_key(conn, key_id, now):
            raise ApiError(404, "not_found", f"no active key {key_id!r}")
        audit.record(conn, kind="api_key", actor="admin", at=now, detail={"event": "revoked", "key": key_id})


LAST_USED_EVERY = dt.timedelta(minutes=1)
"""How fresh a key's ``last_used_at`` is kept: refreshed at most this often, so an API call is not also a write."""


def _staff_by_key(ctx: WebContext, key: str) -> Staff | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "pkk" or len(parts[1]) != 16:
        return None
    key_id, secret = parts[1], parts[2]
    with ctx.db.connect() as conn:
        row = web_store.api_key(conn, key_id)
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash,
                                                                           _secret_hash(ctx, secret)):
        return None
    now = ctx.clock.now()
    if row.last_used_at is None or utc(row.last_used_at) <= now - LAST_USED_EVERY:
        with ctx.db.begin() as conn:
            web_store.touch_api_key(conn, key_id, now)
    return Staff(row.id, row.name, row.role)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def staff_from(request: Request, ctx: WebContext, permission: str) -> Staff:
    """The staff member or service behind a request, if they hold ``permission`` (401 or 403 otherwise)."""
    token = _bearer(request)
    staff: Staff | None = None
    if token and token.startswith("pkk_"):
        staff = _staff_by_key(ctx, token)
    elif token and token.startswith("pkc_") or (not token and request.cookies.get(STAFF_COOKIE)):
        staff = _staff_by_session(ctx, token or request.cookies.get(STAFF_COOKIE, ""))
    if staff is None:
        raise ApiError(401, "not_signed_in", "an API key is needed (Authorization: Bearer pkk_...)",
                       extra={"www_authenticate": "Bearer"})
    if not staff.can(permission):
        raise ApiError(403, "forbidden", f"the {staff.role} role cannot do this ({permission})")
    return staff


# -- sessions ------------------------------------------------------------------------------------------------------

def _open_session(ctx: WebContext, subject: str, prefix: str, now: dt.datetime) -> str:
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    with ctx.db.begin() as conn:
        web_store.insert_session(conn, session_id=_secret_hash(ctx, token), pack_id=ctx.pack.id, subject_id=subject,
                                 created_at=now, expires_at=now + ctx.session_ttl)
    return token


def _session(ctx: WebContext, token: str, prefix: str) -> web_store.SessionRow | None:
    if not token.startswith(prefix + "_") or len(token) > 100:
        return None
    with ctx.db.connect() as conn:
        row = web_store.session(conn, _secret_hash(ctx, token))
    if row is None or row.ended_at is not None or utc(row.expires_at) <= ctx.clock.now():
        return None
    return row


def open_staff_session(ctx: WebContext, key: str) -> tuple[str, Staff]:
    """Sign a staff member in to the console with their API key; returns the session token."""
    staff = _staff_by_key(ctx, key.strip())
    if staff is None:
        raise ApiError(401, "not_signed_in", "that API key is not valid (revoked, mistyped or unknown)")
    return _open_session(ctx, f"key:{staff.key_id}", "pkc", ctx.clock.now()), staff


def _staff_by_session(ctx: WebContext, token: str) -> Staff | None:
    row = _session(ctx, token, "pkc")
    if row is None or not str(row.subject_id).startswith("key:"):
        return None
    key_id = str(row.subject_id)[4:]
    with ctx.db.connect() as conn:
        key = web_store.api_key(conn, key_id)
    if key is None or key.revoked_at is not None:
        return None
    return Staff(key.id, key.name, key.role)


def end_session(ctx: WebContext, token: str) -> None:
    with ctx.db.begin() as conn:
        web_store.end_session(conn, _secret_hash(ctx, token), ctx.clock.now())


MAX_IDENTIFIER = 256
"""Longest identifier :func:`send_login_code` takes (characters)."""
MAX_EMAIL = 254
"""Longest email address :func:`send_login_code` takes (characters; the longest an address can be)."""


def send_login_code(ctx: WebContext, identifier: str, email: str, *, client: str = "unknown",
                    now: dt.datetime | None = None, language: str = "en") -> None:
    """Email a sign-in code if ``email`` is an address held for the person ``identifier``; the same answer either way,
    so nobody learns whether someone else is known. An ask with an address that is not held leaves no trace on the
    person's side: their code stays valid and their allowance untouched. Too many asks for one identifier and
    address, for one address or from one client (:mod:`._limits`): 429, whatever is held."""
    now = ctx.clock.at(now)
    if not identifier.strip() or len(identifier) > MAX_IDENTIFIER:
        raise ApiError(422, "invalid", f"the identifier must be 1 to {MAX_IDENTIFIER} characters", "identifier")
    if "@" not in email or len(email) > MAX_EMAIL or any(ch.isspace() for ch in email.strip()):
        raise ApiError(422, "invalid", "email must be one address, like name@example.com", "email")
    throttle(ctx, [("signin:client", (client,)), ("signin:address", (email,)),
                   ("signin:pair", (identifier, email))], now=now)
    eng = ctx.engine(now)
    lookup = ctx.keys.lookup_hash(identifier.strip())
    with ctx.db.connect() as conn:
        found = eng.subject_id_of(conn, identifier.strip())
    if found is None or not eng.holds_contact(identifier.strip(), email):
        return
    code = f"{secrets.randbelow(10**6):06d}"
    with ctx.db.begin() as conn:
        web_store.insert_login_code(conn, pack_id=ctx.pack.id, lookup=lookup, subject_id=found,
                                    code_hash=_secret_hash(ctx, f"{lookup}:{code}"), sent_at=now,
                                    expires_at=now + CODE_TTL)
    try:
        _ = gettext_for(language)  # the language of the page the code was asked from
        ctx.mailer.send(email.strip(), _("Your sign-in code"),
                        _("Your code is %(code)s. It is valid for %(minutes)s minutes.", code=code,
                          minutes=int(CODE_TTL.total_seconds() // 60)) + "\n"
                        + _("If you did not ask to sign in to the privacy center, ignore this message."))
    except ConfigError as exc:  # the same answer as ever: an error here would tell that the address is held
        log.warning("a sign-in code was not sent: %s", exc.message)  # the server's address, never the person's


def _every_login(ctx: WebContext) -> bool:
    handling = ctx.pack.requests
    return not isinstance(handling, str) and not isinstance(handling.verification, str) \
        and handling.verification.every_login


NOT_VALID = ("that code is not valid: enter the latest code we emailed (each works once, for "
             f"{int(CODE_TTL.total_seconds() // 60)} minutes and {MAX_CODE_ATTEMPTS} tries), or ask for a new one")
"""Step 2's one answer to any code that does not open a session (none sent, expired, spent or wrong): the same words
whatever was guessed, so it never tells whether a code went out, that is, whether an address is on file."""


def open_person_session(ctx: WebContext, identifier: str, code: str, *, client: str = "unknown",
                        language: str | None = None, now: dt.datetime | None = None) -> str:
    """Check the latest code sent for ``identifier`` and open a session; a wrong code costs an attempt (the code is
    spent after :data:`MAX_CODE_ATTEMPTS`). ``language``: the one the person signed in in, kept (encrypted) as the
    language notices to them are written in."""
    now = ctx.clock.at(now)
    throttle(ctx, [("signin:try", (client,))], now=now)
    lookup = ctx.keys.lookup_hash(identifier.strip())
    with ctx.db.begin() as conn:
        row = web_store.latest_code(conn, lookup)
        valid = row is not None and not row.used and utc(row.expires_at) > now
        if row is not None and valid and not hmac.compare_digest(row.code_hash,
                                                                 _secret_hash(ctx, f"{lookup}:{code.strip()}")):
            attempts = row.attempts + 1
            web_store.count_code_attempt(conn, row.id, attempts, spent=attempts >= MAX_CODE_ATTEMPTS)
            valid = False
        elif row is not None and valid:
            web_store.spend_code(conn, row.id)
            every_login = _every_login(ctx)
            if every_login:  # identity is verified at every login: a session never outlives the next login
                web_store.end_sessions_of(conn, str(row.subject_id), now, pack_id=ctx.pack.id)
            audit.record(conn, kind="session", actor="subject", subject_id=row.subject_id, at=now,
                         detail={"event": "signed_in", "by": "email_code", "every_login": every_login})
            if language is not None:
                language_store.remember_for_subject(conn, ctx.keys, str(row.subject_id), language)
    if not valid:
        raise ApiError(401, "not_signed_in", NOT_VALID)
    assert row is not None
    return _open_session(ctx, str(row.subject_id), "pks", now)


def person_from(request: Request, ctx: WebContext) -> Person:
    """The signed-in person behind a request (401 otherwise)."""
    token = _bearer(request) or request.cookies.get(PERSON_COOKIE, "")
    row = _session(ctx, token, "pks") if token else None
    if row is None or str(row.subject_id).startswith("key:") or row.pack_id != ctx.pack.id:
        raise ApiError(401, "not_signed_in", "sign in with the code sent to your email address first")
    return Person(str(row.subject_id), str(row.id))


# -- CSRF ----------------------------------------------------------------------------------------------------------

def csrf_token(ctx: WebContext, session_token: str) -> str:
    """The token a form posted with this session must carry."""
    return hmac.new(ctx.keys.derive_key("web-csrf"), session_token.encode(), hashlib.sha256).hexdigest()[:32]


def check_csrf(ctx: WebContext, session_token: str, given: str | None) -> None:
    if not given or not hmac.compare_digest(csrf_token(ctx, session_token), given):
        raise ApiError(403, "forbidden", "the form is stale or was not sent from this site; reload the page and retry")
