"""Consent on websites: what the consent script (``/consent.js``) offers a visitor, and how their choices are kept.

The purposes offered are the pack's cookie purposes (``cookies.purposes``); those on an ``essential`` data use are
always on and never asked. A pack that uses no cookies (KALOS) offers nothing: no device id, no cookie, no choice to
record, and no tagged script may run. Choices go to the consent ledger under a pseudonymous device id (random, never
derived from the visitor) carried in a signed first-party cookie the script sets on the site. A Global Privacy
Control signal refuses the purposes it covers (advertising and anything a third party receives), recorded with
evidence ``by: GPC``, unless the pack says ``marketing.honor_gpc: false``. Every ledger event is audited, one
transaction per request; nothing about the visitor but the device id is kept.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection

from .. import audit, consent
from .._exceptions import BadValueError, ConfigError
from .._settings import read_settings_file
from ..engine import PolicyEngine
from ..marketing import list_trackers
from ..pack import Pack
from ..pack._lifecycle import CookieRule
from ..store._chain import _HEAD_FOR_UPDATE

__all__ = ["DEVICE_COOKIE", "ENV_CONSENT_ORIGINS", "GPC", "SCRIPT_ACTOR", "ConsentSite", "Method", "SitePurpose",
           "cookies_allowed", "device_of", "gpc_consents", "gpc_honoured", "gpc_note", "gpc_signal", "load_site_settings",
           "new_device", "offered", "record_choices", "site_choices", "site_purposes"]

DEVICE_COOKIE = "pk_consent"
"""The first-party cookie (set by the script on the site, never by the API) holding the signed device id."""
SCRIPT_ACTOR = "consent_script"
GPC = "GPC"
"""The evidence (``by``) of a choice the Global Privacy Control signal made."""
Method = Literal["banner", "preferences", "withdraw_link", "gpc"]
ENV_CONSENT_ORIGINS = "POLICYKEEPER_CONSENT_ORIGINS"
_KEY = "consent-device:v1"
_PREFIX = "dv"


@dataclass(frozen=True)
class SitePurpose:
    """One purpose the script offers: essential ones are always on; ``gpc`` ones the GPC signal refuses."""

    id: str
    name: str
    description: str
    essential: bool
    gpc: bool
    trackers: tuple[dict[str, Any], ...] = ()
    """The registered trackers (cookies, beacons...) serving this purpose: name, technology, party, lifetime."""


def _rule(pack: Pack) -> CookieRule | None:
    c = pack.cookies
    return None if isinstance(c, str) or not c.uses_tracking else c


def cookies_allowed(pack: Pack) -> bool:
    """Whether the pack lets the service set cookies at all (KALOS: no)."""
    rule = _rule(pack)
    return rule is not None and "cookie" in rule.technologies


def gpc_honoured(pack: Pack) -> bool:
    """The GPC signal is honoured unless the pack says ``marketing.honor_gpc: false`` (the safer reading)."""
    m = pack.marketing
    return isinstance(m, str) or m.honor_gpc is not False


def gpc_note(pack: Pack, _: Any = None) -> str:
    """What a page tells a visitor whose browser sent the GPC signal, as the pack says (in the page's language when
    the page's ``_`` is given)."""
    _ = _ or (lambda text: text)
    m = pack.marketing
    if not isinstance(m, str) and m.honor_gpc is False:
        return str(_("Your browser sent a Global Privacy Control signal; this policy says the service does not act "
                     "on it."))
    if isinstance(m, str) and not site_purposes(pack):
        if gpc_consents(pack):
            return str(_("Your browser sent a Global Privacy Control signal: it is honoured as your refusal to have "
                         "your data shared with other companies; signed in, it is recorded as your choice."))
        return str(_("Your browser sent a Global Privacy Control signal. This service sends no marketing and sets no "
                     "advertising cookies, so there is nothing for it to stop."))
    return str(_("Your browser sent a Global Privacy Control signal: it is honoured as your opt-out of marketing and "
                 "of advertising and sharing cookies; signed in, it is recorded as your choice."))


_GPC_SCOPES = frozenset({"third_party_provision", "identity_to_partners"})
_NOT_OURS = frozenset({"policy", "minor_account", "new_purpose"})


def gpc_consents(pack: Pack) -> tuple[str, ...]:
    """The consent rules a GPC signal refuses (a "do not sell or share" request): those for providing data to third
    parties or identities to partners, and those whose purposes are marketing or advertising, or are ones a
    third-party recipient receives data for. Rules given elsewhere (the policy itself, a parent's, a new purpose)
    are not."""
    m = pack.marketing
    if not isinstance(m, str) and m.honor_gpc is False:
        return ()
    uses = {p.id: p.data_use for p in pack.purposes.items}
    shared = {pid for r in pack.recipients if r.third_party for pid in r.purposes}
    out = []
    for rule in pack.consents:
        if rule.scope in _NOT_OURS:
            continue
        if rule.scope in _GPC_SCOPES or any(
                uses.get(t, "").startswith(("marketing", "advertising")) or t in shared for t in rule.targets):
            out.append(rule.id)
    return tuple(out)


def gpc_signal(eng: PolicyEngine, subject_id: str, now: dt.datetime | None = None) -> bool:
    """A signed-in person's request carried ``Sec-GPC: 1``: record it as their marketing opt-out (evidence
    ``by: gpc``, audited), as :func:`policykeeper.marketing.gpc_opt_out` does, and as the withdrawal of the consents
    :func:`gpc_consents` names that hold (given, or granted by default), with evidence ``by: GPC`` as the consent
    script records it; True if it changed anything. Ignored where the pack says ``marketing.honor_gpc: false``."""
    from ..marketing import _rule as marketing_rule
    from ..marketing import _withdraw

    if not gpc_honoured(eng.pack):
        return False
    rule = marketing_rule(eng)
    covered = gpc_consents(eng.pack)
    defaults = {c.id for c in eng.pack.consents if c.default == "granted"}
    now = eng.clock.at(now)
    with eng.db.begin() as conn:
        changed = rule is not None and rule.honor_gpc is not False and _withdraw(eng, conn, subject_id, "gpc", now)
        given, withdrawn = consent.state_as_of(conn, subject_id, now)
        for target in covered:
            if target in given or (target in defaults and target not in withdrawn):
                consent.record(conn, subject_id=subject_id, pack=eng.pack, target=target, action="withdrawn",
                               at=now, evidence={"by": GPC, "method": "gpc"})
                audit.record(conn, kind="consent", actor=GPC, subject_id=subject_id, at=now,
                             pack_version=eng.compiled.version, detail={"target": target, "action": "withdrawn",
                                                                         "by": GPC})
                changed = True
    return changed


def offered(eng: PolicyEngine) -> tuple[SitePurpose, ...]:
    """:func:`site_purposes` with the trackers registered for the pack (``policykeeper tracker add``)."""
    return site_purposes(eng.pack, list_trackers(eng) if cookies_allowed(eng.pack) else ())


def site_purposes(pack: Pack, trackers: Iterable[Mapping[str, Any]] = ()) -> tuple[SitePurpose, ...]:
    """The cookie purposes, in the pack's order; none where the pack uses no cookies. GPC covers the advertising
    ones, those a third-party recipient receives data for, and those a registered third-party tracker serves."""
    rule = _rule(pack)
    if rule is None or not cookies_allowed(pack):
        return ()
    declared = {p.id: p for p in pack.purposes.items}
    shared = {pid for r in pack.recipients if r.third_party for pid in r.purposes}
    served: dict[str, list[dict[str, Any]]] = {}
    for t in trackers:
        served.setdefault(str(t["purpose"]), []).append({k: t[k] for k in ("name", "technology", "party", "lifetime")})
    out = []
    for pid in rule.purposes:
        p = declared.get(pid)
        use = p.data_use if p is not None else ""
        mine = served.get(pid, [])
        out.append(SitePurpose(
            id=pid, name=p.name if p is not None else pid.replace("_", " ").capitalize(),
            description=p.description if p is not None else "", essential=use.startswith("essential"),
            gpc=use.startswith("marketing") or pid in shared or any(t["party"] == "third" for t in mine),
            trackers=tuple(mine)))
    return tuple(out)


def _sign(eng: PolicyEngine, device: str) -> str:
    mac = hmac.new(eng.keys.derive_key(_KEY), device.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode("ascii")


def new_device(eng: PolicyEngine) -> tuple[str, str]:
    """A fresh pseudonymous device id and its signed token (``ID.SIGNATURE``)."""
    device = _PREFIX + secrets.token_hex(15)
    return device, f"{device}.{_sign(eng, device)}"


def device_of(eng: PolicyEngine, token: str) -> str:
    """The device id a signed token names; a BadValueError if it is malformed or its signature does not match."""
    device, _, sig = token.partition(".")
    if len(device) != 32 or not device.startswith(_PREFIX) or not all(c in "0123456789abcdef" for c in device[2:]):
        raise BadValueError("the device token is malformed (expected ID.SIGNATURE)")
    if not hmac.compare_digest(sig.encode("ascii", "replace"), _sign(eng, device).encode("ascii")):
        raise BadValueError("the device token's signature does not match: it is forged or was altered")
    return device


def _choices(conn: Connection, targets: set[str], device: str) -> dict[str, str]:
    last: dict[str, str] = {}
    for target, action, _, _ in conn.execute(consent._EVENTS_OF_SUBJECT, {"sid": device}):
        if target in targets:
            last[target] = action
    return last


def site_choices(eng: PolicyEngine, device: str) -> dict[str, str]:
    """The device's recorded choice per offered purpose: ``given``, ``refused`` or ``withdrawn`` (unchosen: absent)."""
    with eng.db.connect() as conn:
        return _choices(conn, {p.id for p in offered(eng) if not p.essential}, device)


def record_choices(eng: PolicyEngine, device: str, choices: Mapping[str, bool], *, method: Method, gpc: bool,
                   origin: str | None, now: dt.datetime | None = None) -> dict[str, str]:
    """Record what changed (given, refused or withdrawn per purpose) in one transaction, each event audited.

    With the GPC signal (and a pack that honours it) the purposes it covers are refused with evidence ``by: GPC``,
    whatever the choices say. Unknown or essential purposes are an error naming them; nothing is recorded then."""
    now = eng.clock.at(now)
    offers = {p.id: p for p in offered(eng)}
    if not offers:
        raise BadValueError("this pack uses no cookies or similar technologies: there is no choice to record")
    unknown = sorted(set(choices) - set(offers))
    if unknown:
        raise BadValueError(f"not cookie purposes of this pack: {', '.join(unknown)}")
    essential = sorted(k for k in choices if offers[k].essential)
    if essential:
        raise BadValueError(f"essential purposes are always on and take no choice: {', '.join(essential)}")
    wanted: dict[str, tuple[bool, str]] = {k: (v, SCRIPT_ACTOR) for k, v in choices.items()}
    if gpc and gpc_honoured(eng.pack):
        wanted.update({p.id: (False, GPC) for p in offers.values() if p.gpc})
    rule = _rule(eng.pack)
    promises = tuple(dict.fromkeys([*rule.promises, *(q for r in rule.rules for q in r.promises)])) if rule else ()
    with eng.db.begin() as conn:
        conn.execute(_HEAD_FOR_UPDATE, {"chain": "consent"})  # one save at a time (PostgreSQL), then read the state
        before = _choices(conn, {k for k, p in offers.items() if not p.essential}, device)
        for target in sorted(wanted):
            allow, by = wanted[target]
            was = before.get(target)
            action: consent.ConsentAction
            if allow:
                if was == "given":
                    continue
                action = "given"
            else:
                if was in ("refused", "withdrawn"):
                    continue
                action = "withdrawn" if was == "given" else "refused"
            evidence = {"by": by, "method": "gpc" if by == GPC else method, **({"origin": origin} if origin else {})}
            consent.record(conn, subject_id=device, pack=eng.pack, target=target, action=action, at=now,
                           evidence=evidence)
            audit.record(conn, kind="consent", actor=by if by == GPC else SCRIPT_ACTOR, subject_id=device, at=now,
                         pack_version=eng.compiled.version, promises=promises,
                         detail={"target": target, "action": action, "by": by, "method": evidence["method"]})
            before[target] = action
    return before


# -- the operator's settings ---------------------------------------------------------------------------------------
@dataclass
class ConsentSite:
    """Who may call the consent endpoints from a browser, and how often."""

    origins: tuple[str, ...] = ()
    rate_per_minute: int = 120
    _hits: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, client: str, now: float | None = None) -> bool:
        """Count one call from ``client``; False once it made ``rate_per_minute`` calls in the last minute."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._hits) > 10_000:  # forget idle clients so the table stays small
                for key in [k for k, q in self._hits.items() if not q or q[-1] < now - 60]:
                    del self._hits[key]
            q = self._hits.setdefault(client, deque())
            while q and q[0] <= now - 60:
                q.popleft()
            if len(q) >= self.rate_per_minute:
                return False
            q.append(now)
            return True


def load_site_settings(home: Path) -> ConsentSite:
    """The operator's settings: ``HOME/consent.yaml`` (``site: {origins: [...], rate_per_minute: N}``), with
    ``$POLICYKEEPER_CONSENT_ORIGINS`` added to the origins."""
    path = home / "consent.yaml"
    site = read_settings_file(path, ("site",), "consent script settings")["site"]
    unknown = set(site) - {"origins", "rate_per_minute"}
    if unknown:
        raise ConfigError(f"{path}: site: unknown keys {', '.join(sorted(map(str, unknown)))}")
    origins = site.get("origins") or []
    env = [o.strip() for o in os.environ.get(ENV_CONSENT_ORIGINS, "").split(",") if o.strip()]
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
        raise ConfigError(f"{path}: site.origins must be a list of origins such as https://shop.example")
    found = tuple(o.rstrip("/") for o in [*origins, *env])
    bad = [o for o in found if not o.startswith(("https://", "http://")) or o.count("/") != 2]
    if bad:
        raise ConfigError(f"{path}: site.origins: {bad[0]!r} is not an origin (scheme://host[:port], no path)")
    rate = site.get("rate_per_minute", 120)
    if not isinstance(rate, int) or isinstance(rate, bool) or rate < 1:
        raise ConfigError(f"{path}: site.rate_per_minute must be a whole number of calls, at least 1")
    return ConsentSite(origins=found, rate_per_minute=rate)
