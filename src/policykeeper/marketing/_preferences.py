"""The person's marketing choice: whether marketing may reach them, the signed unsubscribe link, the app-settings
switch and the Global Privacy Control signal."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json

from .. import consent
from .._exceptions import BadValueError, SubjectNotFoundError
from ..engine import PolicyEngine
from ..store import people as people_store
from ._common import MARKETING, _receives, _record_choice, _rule, _subject_id, _withdraw

UNSUBSCRIBE_TOKEN_LIFETIME = dt.timedelta(days=365)
"""How long an unsubscribe link keeps working after the message was sent."""

_TOKEN_KEY = "unsubscribe-token:v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(eng: PolicyEngine, payload: str) -> str:
    return _b64(hmac.new(eng.keys.derive_key(_TOKEN_KEY), payload.encode("ascii"), hashlib.sha256).digest())


# -- the marketing choice -------------------------------------------------------------------------------------------
def marketing_allowed(eng: PolicyEngine, external_id: str, *, now: dt.datetime | None = None) -> bool:
    """Whether marketing may reach the person now: opted in (opt-in packs) or not opted out (opt-out packs).

    A pack with no marketing basis allows none (the safe default)."""
    now = eng.clock.at(now)
    with eng.db.connect() as conn:
        return _receives(eng, conn, _subject_id(eng, conn, external_id), now)


def unsubscribe_token(eng: PolicyEngine, subject_id: str, *, now: dt.datetime | None = None,
                      lifetime: dt.timedelta = UNSUBSCRIBE_TOKEN_LIFETIME) -> str:
    """A signed token naming the pseudonymous subject and the pack, valid for ``lifetime`` from ``now``.

    The signing key is derived from the keystore's lookup secret, so only this deployment can make one."""
    now = eng.clock.at(now)
    body = json.dumps({"s": subject_id, "p": eng.pack.id, "e": int((now + lifetime).timestamp())},
                      separators=(",", ":"), sort_keys=True)
    payload = _b64(body.encode())
    return f"{payload}.{_sign(eng, payload)}"


def _verify(eng: PolicyEngine, token: str, now: dt.datetime) -> str:
    """The subject id a token names, or a BadValueError saying what is wrong with it."""
    if not isinstance(token, str) or token.count(".") != 1:
        raise BadValueError("the unsubscribe token is malformed (expected PAYLOAD.SIGNATURE)")
    payload, sig = token.split(".")
    if not hmac.compare_digest(sig.encode("ascii", "replace"), _sign(eng, payload).encode("ascii")):
        raise BadValueError("the unsubscribe token's signature does not match: it is forged or was altered")
    try:
        data = json.loads(_unb64(payload))
        sid, pack_id, expires = str(data["s"]), str(data["p"]), int(data["e"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise BadValueError("the unsubscribe token is malformed") from None
    if pack_id != eng.pack.id:
        raise BadValueError(f"the unsubscribe token is for pack {pack_id!r}, not {eng.pack.id!r}")
    if now.timestamp() > expires:
        at = dt.datetime.fromtimestamp(expires, dt.UTC).isoformat()
        raise BadValueError(f"the unsubscribe token expired at {at}; use the link in a newer message or the app settings")
    return sid


def unsubscribe(eng: PolicyEngine, token: str, *, now: dt.datetime | None = None) -> bool:
    """Act on an unsubscribe link: record the marketing choice as withdrawn (evidence ``by: unsubscribe_link``).

    A forged, altered, expired or other-pack token is refused with an error naming the problem and changes nothing.
    Idempotent: returns False when the person had already opted out (or was erased)."""
    now = eng.clock.at(now)
    sid = _verify(eng, token, now)
    with eng.db.begin() as conn:
        row = people_store.by_id(conn, sid)
        if row is None:
            raise SubjectNotFoundError("the unsubscribe token names no known person")
        if row.wrapped_key is None or eng.keys.is_shredded(sid):
            return False  # erased: nothing is sent to them anyway
        return _withdraw(eng, conn, sid, "unsubscribe_link", now)


def set_marketing_preference(eng: PolicyEngine, external_id: str, receive: bool, *,
                             now: dt.datetime | None = None) -> bool:
    """The app-settings switch: ``receive=False`` works exactly as the unsubscribe link (KOKKOK-35);
    ``receive=True`` records the person's 'given' (an opt-in where the pack needs one). Returns whether it changed."""
    now = eng.clock.at(now)
    rule = _rule(eng)
    if rule is None:
        if receive:
            raise BadValueError("this pack describes no marketing, so there is nothing to receive")
        return False
    with eng.db.begin() as conn:
        sid = _subject_id(eng, conn, external_id)
        if not receive:
            return _withdraw(eng, conn, sid, "app_settings", now)
        if MARKETING in consent.state_as_of(conn, sid, now)[0]:
            return False
        _record_choice(eng, conn, sid, MARKETING, "given", "app_settings", now)
        return True


def gpc_opt_out(eng: PolicyEngine, external_id: str, sec_gpc_header_value: str | None, *,
                now: dt.datetime | None = None) -> bool:
    """Record a Global Privacy Control signal (``Sec-GPC: 1``) as a marketing and sale opt-out; True if it changed.

    Where the pack says ``marketing.honor_gpc: true`` the signal is honoured as promised. Where the pack leaves it
    unspecified, the signal is honoured anyway: treating it as an opt-out is the safer reading, and it is what laws
    such as the CCPA require. Only a pack that says ``honor_gpc: false`` ignores it. Any header value but ``1`` is no
    signal. A pack with no marketing at all has nothing to opt out of (False). For a visitor not yet known, pass
    ``gpc=True`` to :func:`trackers_for` instead."""
    now = eng.clock.at(now)
    rule = _rule(eng)
    if sec_gpc_header_value is None or sec_gpc_header_value.strip() != "1" or rule is None or rule.honor_gpc is False:
        return False
    with eng.db.begin() as conn:
        return _withdraw(eng, conn, _subject_id(eng, conn, external_id), "gpc", now)


