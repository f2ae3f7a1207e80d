"""Marketing and tracking: who may get promotional messages, how they stop them, and which trackers may be set.

A person's marketing choice lives in the consent ledger under the target ``"marketing"``. Where the pack's basis is
``opt_in`` (KOSO) marketing needs a recorded 'given'; where it is ``opt_out`` (KOKKOK, Kamoer) it goes until the
person withdraws; a pack without a marketing basis gets no marketing at all. Every marketing message carries a
signed, expiring unsubscribe link; service messages never need consent and carry no link. Messages are written to
the outbox (delivered later by :func:`policykeeper.notify.deliver`) and classed in ``message_log``, never with their
content. Trackers (cookies, beacons, pixels...) are registered against the pack's closed lists and chosen per
visitor from the purposes they refused. Every change is one transaction and is audited without personal values.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import Connection, select

from .. import audit, consent
from .._exceptions import BadValueError, ConfigError, DeniedError, SubjectNotFoundError
from ..engine import Decision, PolicyEngine, Reason, Use
from ..notify import PERSON_CHANNELS, enqueue_to_person
from ..pack import lint_pack
from ..pack._lifecycle import CookieRule, MarketingRule, TrackingTechnology
from ..store._schema import message_log, subjects, trackers

__all__ = [
    "ENV_PUBLIC_URL",
    "MARKETING",
    "TrackerChoice",
    "UNSUBSCRIBE_TOKEN_LIFETIME",
    "check_display",
    "gpc_opt_out",
    "list_trackers",
    "marketing_allowed",
    "register_tracker",
    "send_message",
    "set_marketing_preference",
    "trackers_for",
    "tracking_allowed",
    "unsubscribe",
    "unsubscribe_token",
]

MARKETING = "marketing"
"""The consent-ledger target that holds a person's marketing choice."""

UNSUBSCRIBE_TOKEN_LIFETIME = dt.timedelta(days=365)
"""How long an unsubscribe link keeps working after the message was sent."""

ENV_PUBLIC_URL = "POLICYKEEPER_PUBLIC_URL"
"""Where the service answers ``/unsubscribe`` (the base of every unsubscribe link), when not given explicitly."""

MessageKind = Literal["marketing", "service"]
Source = Literal["own", "partners", "sponsors", "advertisers"]
_TOKEN_KEY = "unsubscribe-token:v1"
_TECHNOLOGIES = frozenset(get_args(TrackingTechnology))


# -- helpers ------------------------------------------------------------------------------------------------------
def _rule(eng: PolicyEngine) -> MarketingRule | None:
    m = eng.pack.marketing
    return None if isinstance(m, str) else m


def _cookies(eng: PolicyEngine) -> CookieRule | None:
    c = eng.pack.cookies
    return None if isinstance(c, str) else c


def _promises(rule: MarketingRule | CookieRule | None) -> tuple[str, ...]:
    if rule is None:
        return ()
    found = dict.fromkeys(rule.promises)
    for sub in rule.rules:
        found.update(dict.fromkeys(sub.promises))
    return tuple(found)


def _targets(eng: PolicyEngine) -> frozenset[str]:
    """The ledger targets that count as the marketing choice: 'marketing' and the pack's marketing consents."""
    return frozenset({MARKETING} | {c.id for c in eng.pack.consents if c.scope == "marketing"})


def _deny(eng: PolicyEngine, action: str, code: str, message: str, rule: str, promises: Iterable[str],
          subject_id: str | None, detail: Mapping[str, object], actor: str, now: dt.datetime) -> DeniedError:
    """Audit a refusal in its own transaction (the refusal is evidence too) and return the error to raise."""
    d = Decision(False, action, (Reason(code, message, rule, tuple(promises)),), eng.pack.id, eng.compiled.version)
    return _refused(eng, d, subject_id, detail, actor, now)


def _refused(eng: PolicyEngine, d: Decision, subject_id: str | None, detail: Mapping[str, object], actor: str,
             now: dt.datetime) -> DeniedError:
    with eng.db.begin() as conn:
        audit.record(conn, kind="decision", actor=actor, subject_id=subject_id, decision_id=d.decision_id,
                     allowed=False, promises=d.promises, pack_version=d.pack_version, at=now,
                     detail={"action": d.action, "codes": [r.code for r in d.denials],
                             "rules": [r.rule for r in d.denials], **detail})
    first = d.denials[0]
    refs = f" ({', '.join(first.promises)})" if first.promises else ""
    return DeniedError(f"{first.message} [rule {first.rule}]{refs}", d)


def _subject_id(eng: PolicyEngine, conn: Connection, external_id: str) -> str:
    row = conn.execute(select(subjects.c.id, subjects.c.wrapped_key).where(
        subjects.c.lookup == eng.keys.lookup_hash(external_id))).first()
    if row is None or row.wrapped_key is None or eng.keys.is_shredded(row.id):
        raise SubjectNotFoundError("no data is held about that person")
    return str(row.id)


def _receives(eng: PolicyEngine, conn: Connection, sid: str, now: dt.datetime) -> bool:
    """Whether the person's marketing choice (consents and withdrawals, from the engine's one fact path) lets
    marketing reach them now, under the pack's basis."""
    rule = _rule(eng)
    if rule is None or rule.basis == "unspecified":
        return False
    facts = eng.facts_for(conn, sid, now=now)
    targets = _targets(eng)
    if not facts.consents.isdisjoint(targets):
        return True
    return rule.basis == "opt_out" and facts.objections.isdisjoint(targets)


_HALTED = (("restricted", "restricted", "the person restricted the processing of their data: no marketing"),
           ("queued_for_deletion", "queued_for_deletion", "the person's data is queued for deletion: no marketing"))


def _halted(eng: PolicyEngine, conn: Connection, sid: str, now: dt.datetime) -> tuple[str, str] | None:
    """(code, words) when the engine's records stop all use of the person's data for marketing (a restriction,
    the deletion queue, the policy declined), whatever their marketing choice; None otherwise."""
    facts = eng.facts_for(conn, sid, now=now)
    for fact, code, words in _HALTED:
        if facts.holds(fact):
            return code, words
    if facts.policy_declined:
        return "policy_declined", "the person declined the policy: no processing, marketing included"
    return None


def _withdraw(eng: PolicyEngine, conn: Connection, sid: str, by: str, now: dt.datetime) -> bool:
    """Record 'withdrawn' for every marketing target still held (and 'marketing' itself); False if nothing changed."""
    given, withdrawn = consent.state_as_of(conn, sid, now)
    todo = sorted((given & _targets(eng)) | ({MARKETING} - withdrawn))
    for target in todo:
        consent.record(conn, subject_id=sid, pack=eng.pack, target=target, action="withdrawn", at=now,
                       evidence={"by": by})
        audit.record(conn, kind="consent", actor=by, subject_id=sid, at=now, pack_version=eng.compiled.version,
                     promises=_promises(_rule(eng)), detail={"target": target, "action": "withdrawn", "by": by})
    return bool(todo)


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
    now = now or dt.datetime.now(dt.UTC)
    with eng.db.connect() as conn:
        return _receives(eng, conn, _subject_id(eng, conn, external_id), now)


def unsubscribe_token(eng: PolicyEngine, subject_id: str, *, now: dt.datetime | None = None,
                      lifetime: dt.timedelta = UNSUBSCRIBE_TOKEN_LIFETIME) -> str:
    """A signed token naming the pseudonymous subject and the pack, valid for ``lifetime`` from ``now``.

    The signing key is derived from the keystore's lookup secret, so only this deployment can make one."""
    now = now or dt.datetime.now(dt.UTC)
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
    now = now or dt.datetime.now(dt.UTC)
    sid = _verify(eng, token, now)
    with eng.db.begin() as conn:
        row = conn.execute(select(subjects.c.wrapped_key).where(subjects.c.id == sid)).first()
        if row is None:
            raise SubjectNotFoundError("the unsubscribe token names no known person")
        if row.wrapped_key is None or eng.keys.is_shredded(sid):
            return False  # erased: nothing is sent to them anyway
        return _withdraw(eng, conn, sid, "unsubscribe_link", now)


def set_marketing_preference(eng: PolicyEngine, external_id: str, receive: bool, *,
                             now: dt.datetime | None = None) -> bool:
    """The app-settings switch: ``receive=False`` works exactly as the unsubscribe link (KOKKOK-35);
    ``receive=True`` records the person's 'given' (an opt-in where the pack needs one). Returns whether it changed."""
    now = now or dt.datetime.now(dt.UTC)
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
        consent.record(conn, subject_id=sid, pack=eng.pack, target=MARKETING, action="given", at=now,
                       evidence={"by": "app_settings"})
        audit.record(conn, kind="consent", actor="app_settings", subject_id=sid, at=now,
                     pack_version=eng.compiled.version, promises=_promises(rule),
                     detail={"target": MARKETING, "action": "given", "by": "app_settings"})
        return True


def gpc_opt_out(eng: PolicyEngine, external_id: str, sec_gpc_header_value: str | None, *,
                now: dt.datetime | None = None) -> bool:
    """Record a Global Privacy Control signal (``Sec-GPC: 1``) as a marketing and sale opt-out; True if it changed.

    Where the pack says ``marketing.honor_gpc: true`` the signal is honoured as promised. Where the pack leaves it
    unspecified, the signal is honoured anyway: treating it as an opt-out is the safer reading, and it is what laws
    such as the CCPA require. Only a pack that says ``honor_gpc: false`` ignores it. Any header value but ``1`` is no
    signal. A pack with no marketing at all has nothing to opt out of (False). For a visitor not yet known, pass
    ``gpc=True`` to :func:`trackers_for` instead."""
    now = now or dt.datetime.now(dt.UTC)
    rule = _rule(eng)
    if sec_gpc_header_value is None or sec_gpc_header_value.strip() != "1" or rule is None or rule.honor_gpc is False:
        return False
    with eng.db.begin() as conn:
        return _withdraw(eng, conn, _subject_id(eng, conn, external_id), "gpc", now)


def tracking_allowed(eng: PolicyEngine, external_id: str, *, now: dt.datetime | None = None) -> bool:
    """Whether an open-tracking pixel or web beacon may go into an email to the person.

    Only where the pack lists a pixel tag or web beacon placed in emails, and never after the person unsubscribed
    where the pack says unsubscribing stops tracking (Kamoer, KAMOER-28)."""
    now = now or dt.datetime.now(dt.UTC)
    cookies, rule = _cookies(eng), _rule(eng)
    if cookies is None or not cookies.uses_tracking or "email" not in cookies.placement:
        return False
    if not {"pixel_tag", "web_beacon"} & set(cookies.technologies):
        return False
    with eng.db.connect() as conn:
        sid = _subject_id(eng, conn, external_id)
        if _halted(eng, conn, sid, now) is not None:
            return False  # restricted, queued for deletion or the policy declined: no tracking either
        if rule is not None and rule.unsubscribe_stops_tracking:
            facts = eng.facts_for(conn, sid, now=now)  # the engine's one fact path: the marketing choice held
            if facts.consents.isdisjoint(_targets(eng)) and not facts.objections.isdisjoint(_targets(eng)):
                return False
    return True


# -- messages ---------------------------------------------------------------------------------------------------------
def _check_text(topic: str, subject: str, body: str) -> None:
    if not isinstance(topic, str) or not topic.strip() or len(topic) > 64:
        raise BadValueError("topic must name the message (a campaign or notice id, 1 to 64 characters)")
    if not isinstance(subject, str) or not subject.strip() or not isinstance(body, str) or not body.strip():
        raise BadValueError("a message needs a subject and a body")


def _base_url(base_url: str | None) -> str:
    url = (base_url or os.environ.get(ENV_PUBLIC_URL) or "").rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"marketing needs an unsubscribe link: give base_url or set {ENV_PUBLIC_URL} (https://...)")
    return url


def send_message(
    eng: PolicyEngine,
    external_id: str,
    *,
    kind: MessageKind,
    channel: str,
    topic: str,
    subject: str,
    body: str,
    source: Source = "own",
    content_type: str | None = None,
    purpose: str | None = None,
    base_url: str | None = None,
    actor: str = "marketing",
    now: dt.datetime | None = None,
) -> int | None:
    """Send one message to a person through the outbox; returns the outbox id, or None if it was already sent.

    ``kind`` classes it: ``service`` messages (transactions, rewards, account notices) always go; ``marketing`` goes
    only where the pack has a marketing basis, the person's choice allows it, the channel, source and content type
    are ones the pack lists, and it then carries a signed unsubscribe link (``{base_url}/unsubscribe?token=...``).
    A ``purpose`` (e.g. KOSO's ``feedback_survey``) is also put to the engine's decision point: the pack must let
    that purpose use the person's email (with the consents it needs, given and not withdrawn), and the decision's
    promises are audited with the message. Email goes to the latest address held; push goes to the pseudonymous subject id
    (the push webhook maps it to a device). The same (kind, topic, person, channel) is sent once: a re-run is harmless.
    """
    now = now or dt.datetime.now(dt.UTC)
    if kind not in ("marketing", "service"):
        raise BadValueError(f"a message is 'marketing' or 'service', not {kind!r}")
    _check_text(topic, subject, body)
    rule = _rule(eng)
    promises = _promises(rule)
    action = f"message:{kind}"
    detail: dict[str, object] = {"kind": kind, "channel": channel, "topic": topic}
    with eng.db.connect() as conn:
        sid = _subject_id(eng, conn, external_id)
    if purpose is not None and purpose not in eng.compiled.purposes:
        raise BadValueError(f"{purpose!r} is not a purpose of this pack")
    if kind == "marketing":
        denial: tuple[str, str, str] | None = None
        if rule is None or rule.basis == "unspecified":
            denial = ("no_marketing_basis", "the pack gives no basis (opt-in or opt-out) for marketing, so none is sent",
                      "marketing.basis")
        elif not isinstance(rule.channels, str) and channel not in rule.channels:
            denial = ("channel_not_allowed", f"marketing may go through {', '.join(rule.channels)}, not {channel!r}",
                      "marketing.channels")
        elif source not in rule.sources:
            denial = ("source_not_allowed", f"marketing may cover offers from {', '.join(rule.sources)}, not {source!r}",
                      "marketing.sources")
        elif content_type is not None and rule.content_types and content_type not in rule.content_types:
            denial = ("content_type_not_allowed", f"marketing content is one of {', '.join(rule.content_types)}",
                      "marketing.content_types")
        if denial is not None:
            raise _deny(eng, action, *denial, promises, sid, detail, actor, now)
    if channel not in PERSON_CHANNELS:
        raise BadValueError(f"no transport for channel {channel!r}: the outbox reaches people through "
                            f"{', '.join(PERSON_CHANNELS)} only")
    url = _base_url(base_url) if kind == "marketing" else ""
    refused: Decision | None = None
    with eng.db.begin() as conn:
        # the engine's one fact-gathering path: consents, withdrawals, a restriction, the deletion queue ...
        used = None if purpose is None else eng.decide_for_subject(
            conn, sid, Use(purpose, eng.email_categories() if channel == "email" else frozenset()), now=now)
        if used is not None and not used.allowed:
            refused = used
        elif kind == "marketing" and (halt := _halted(eng, conn, sid, now)) is not None:
            refused = Decision(False, action, (Reason(*halt, "marketing", promises),), eng.pack.id,
                               eng.compiled.version)
        elif kind == "marketing" and not _receives(eng, conn, sid, now):
            code, words = (("not_opted_in", "the person never agreed to receive marketing (opt-in; default off)")
                           if rule is not None and rule.basis == "opt_in"
                           else ("opted_out", "the person opted out of marketing"))
            refused = Decision(False, action, (Reason(code, words, "marketing.basis", promises),), eng.pack.id,
                               eng.compiled.version)
        else:
            done = conn.execute(select(message_log.c.id).where(
                message_log.c.kind == kind, message_log.c.topic == topic, message_log.c.subject_id == sid,
                message_log.c.channel == channel)).first()
            if done is not None:
                return None
            if channel == "email":
                to = eng.email_of_subject(conn, sid)
                if to is None:
                    raise BadValueError("no email address is held for that person")
            else:
                to = sid
            text = body
            if kind == "marketing":
                token = unsubscribe_token(eng, sid, now=now)
                text = f"{body.rstrip()}\n\n--\nTo stop receiving these messages: {url}/unsubscribe?token={token}\n"
            oid = enqueue_to_person(conn, eng.keys, kind=kind, channel=channel, to=to, subject=subject, body=text,
                                    now=now)
            conn.execute(message_log.insert().values(pack_id=eng.pack.id, subject_id=sid, kind=kind, channel=channel,
                                                     topic=topic, outbox_id=oid, created_at=now))
            sent = (*(promises if kind == "marketing" else ()), *(used.promises if used is not None else ()))
            audit.record(conn, kind="message", actor=actor, subject_id=sid, allowed=True, at=now,
                         decision_id=used.decision_id if used is not None else None, promises=tuple(dict.fromkeys(sent)),
                         pack_version=eng.compiled.version, detail={**detail, "purpose": purpose, "outbox": oid})
            return oid
    raise _refused(eng, refused, sid, {**detail, "purpose": purpose}, actor, now)


# -- what is displayed -----------------------------------------------------------------------------------------------
def check_display(
    eng: PolicyEngine,
    *,
    kind: Literal["ad", "recommendation"],
    source: Source = "own",
    personalised: bool = False,
    based_on: Iterable[str] = (),
    actor: str = "app",
    now: dt.datetime | None = None,
) -> Decision:
    """Decide whether the app may show an ad or a recommendation; returns the (audited) decision or raises.

    Third-party ads are refused where the pack says there are none (KOSO-22, even though the pack also lists an
    advertising SDK: ``lint_pack`` reports that contradiction and the engine takes the stricter reading); personalised
    content is refused where the pack says there is none (KAMOER-12) and allowed where it allows targeted ads
    (KONZEN-21). Recommendations come only from the pack's marketing sources and only from the categories the pack's
    recommendation purpose uses (KOSO-23)."""
    now = now or dt.datetime.now(dt.UTC)
    if kind not in ("ad", "recommendation"):
        raise BadValueError(f"kind must be 'ad' or 'recommendation', not {kind!r}")
    if source not in get_args(Source):
        raise BadValueError(f"source must be one of {', '.join(get_args(Source))}, not {source!r}")
    cats = sorted(set(based_on))
    unknown = [c for c in cats if c not in eng.compiled.categories]
    if unknown:
        raise BadValueError(f"not data categories of this pack: {', '.join(unknown)}")
    rule = _rule(eng)
    promises = _promises(rule)
    action = f"display:{kind}"
    detail: dict[str, object] = {"kind": kind, "source": source, "personalised": personalised, "based_on": cats}
    denial: tuple[str, str, str] | None = None
    if rule is None:
        denial = ("no_marketing_rule", "the pack describes no advertising or recommendations", "marketing")
    elif personalised and rule.personalized_display is False:
        denial = ("personalised_display_refused", "the pack promises no personalised content or ads in the app",
                  "marketing.personalized_display")
    elif kind == "ad" and source != "own" and rule.third_party_ads_in_app is not True and not (
            rule.third_party_ads_in_app == "unspecified"
            and any(r.category == "advertiser_or_agent" for r in eng.pack.recipients)):
        clash = [f for f in lint_pack(eng.pack) if f.code == "ads_contradiction"]
        note = f" (the pack contradicts itself here: {clash[0].message}; the stricter reading wins)" if clash else ""
        denial = ("third_party_ads_refused", f"the pack promises no third-party advertising in the app{note}",
                  "marketing.third_party_ads_in_app")
    elif kind == "ad" and personalised and rule.targeted_ads is not True and rule.personalized_display is not True:
        denial = ("targeted_ads_not_allowed", "the pack does not allow targeted advertising", "marketing.targeted_ads")
    elif kind == "recommendation":
        uses = [p for p in eng.pack.purposes.items
                if p.data_use.startswith("personalize") and not set(p.promises).isdisjoint(promises)]
        allowed_cats = {c for p in uses if not isinstance(p.categories, str) for c in p.categories}
        if source not in rule.sources:
            denial = ("recommendation_source_refused",
                      f"recommendations cover {rule.recommendation_scope or ', '.join(rule.sources) + ' products only'}",
                      "marketing.recommendation_scope")
        elif not uses:
            denial = ("no_recommendation_purpose", "the pack declares no purpose for recommendations",
                      "marketing.recommendation_scope")
        elif not set(cats) <= allowed_cats:
            denial = ("recommendation_basis_refused", "recommendations may be based on "
                      f"{', '.join(sorted(allowed_cats))} only, not {', '.join(sorted(set(cats) - allowed_cats))}",
                      "marketing.recommendation_scope")
    if denial is not None:
        raise _deny(eng, action, *denial, promises, None, detail, actor, now)
    d = Decision(True, action, (Reason("ok_display", f"{kind} allowed", "marketing", promises),), eng.pack.id,
                 eng.compiled.version)
    with eng.db.begin() as conn:
        audit.record(conn, kind="decision", actor=actor, decision_id=d.decision_id, allowed=True, promises=d.promises,
                     pack_version=d.pack_version, at=now, detail={"action": action, "codes": ["ok_display"], **detail})
    return d


# -- trackers -----------------------------------------------------------------------------------------------------------
_COLUMNS = ("name", "technology", "purpose", "party", "recipient", "lifetime", "placement")


def register_tracker(
    eng: PolicyEngine,
    *,
    name: str,
    technology: str,
    purpose: str,
    party: Literal["first", "third"],
    lifetime: Literal["session", "persistent"],
    placement: str,
    recipient: str | None = None,
    actor: str = "operator",
    now: dt.datetime | None = None,
) -> int:
    """Register a cookie or similar tracker the service sets; returns its id (the same id on an identical re-run).

    Refused (and audited) where the pack uses no tracking (KALOS-12), or the technology, purpose (a closed list),
    lifetime or placement is not one the pack lists, or a third-party tracker is not set by a listed recipient that
    receives data for that purpose (KOKKOK-49) or the pack allows no third parties."""
    now = now or dt.datetime.now(dt.UTC)
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise BadValueError("a tracker needs a name (1 to 100 characters)")
    if technology not in _TECHNOLOGIES:
        raise BadValueError(f"technology must be one of {', '.join(sorted(_TECHNOLOGIES))}, not {technology!r}")
    if party not in ("first", "third"):
        raise BadValueError(f"party must be 'first' or 'third', not {party!r}")
    if lifetime not in ("session", "persistent"):
        raise BadValueError(f"lifetime must be 'session' or 'persistent', not {lifetime!r}")
    if party == "first" and recipient is not None:
        raise BadValueError("a first-party tracker has no recipient; use party='third' for one a third party sets")
    cookies = _cookies(eng)
    promises = _promises(cookies)
    row = {"name": name.strip(), "technology": technology, "purpose": purpose, "party": party, "recipient": recipient,
           "lifetime": lifetime, "placement": placement}
    detail = {k: v for k, v in row.items() if k != "name"}
    denial: tuple[str, str, str] | None = None
    listed = {r.id: r for r in eng.pack.recipients}
    if cookies is None or not cookies.uses_tracking:
        denial = ("no_tracking", "the pack uses no cookies or similar tracking technologies, so none may be set",
                  "cookies.uses_tracking")
    elif technology not in cookies.technologies:
        denial = ("technology_not_listed", f"the pack lists {', '.join(cookies.technologies)}, not {technology!r}",
                  "cookies.technologies")
    elif purpose not in cookies.purposes:
        denial = ("purpose_not_listed", f"trackers may serve only {', '.join(cookies.purposes) or 'no purpose'}, "
                  f"not {purpose!r}", "cookies.purposes")
    elif cookies.lifetimes and lifetime not in cookies.lifetimes:
        denial = ("lifetime_not_listed", f"trackers may be {', '.join(cookies.lifetimes)}, not {lifetime!r}",
                  "cookies.lifetimes")
    elif placement not in cookies.placement:
        denial = ("placement_not_listed", f"trackers may be placed in {', '.join(cookies.placement)}, not {placement!r}",
                  "cookies.placement")
    elif party == "third" and cookies.third_party_allowed is False:
        denial = ("third_party_not_allowed", "the pack allows no third-party trackers", "cookies.third_party_allowed")
    elif party == "third" and (recipient not in listed or purpose not in listed[recipient].purposes):
        r = listed.get(recipient or "")
        if r is not None:
            promises = (*promises, *r.promises)
        denial = ("recipient_not_listed", "a third-party tracker must be set by a recipient the pack lists for "
                  f"{purpose!r}" + (f"; {recipient!r} is not one" if recipient else "; name it with recipient="),
                  "recipients")
    if denial is not None:
        raise _deny(eng, "tracker", *denial, promises, None, detail, actor, now)
    if party == "third" and recipient is not None:
        promises = (*promises, *listed[recipient].promises)
    with eng.db.begin() as conn:
        old = conn.execute(select(trackers).where(trackers.c.pack_id == eng.pack.id, trackers.c.name == row["name"])
                           ).mappings().first()
        if old is not None:
            if any(old[k] != row[k] for k in _COLUMNS):
                raise BadValueError(f"a different tracker named {row['name']!r} is already registered")
            return int(old["id"])
        tid = conn.execute(trackers.insert().values(pack_id=eng.pack.id, registered_at=now, registered_by=actor, **row)
                           .returning(trackers.c.id)).scalar_one()
        audit.record(conn, kind="tracker", actor=actor, allowed=True, at=now, promises=promises,
                     pack_version=eng.compiled.version, detail={"event": "registered", "tracker": tid, **detail})
    return int(tid)


def list_trackers(eng: PolicyEngine) -> list[dict[str, Any]]:
    """The trackers registered for this pack, in registration order."""
    with eng.db.connect() as conn:
        rows = conn.execute(select(trackers.c.id, *(trackers.c[k] for k in _COLUMNS)).where(
            trackers.c.pack_id == eng.pack.id).order_by(trackers.c.id)).mappings().all()
    return [dict(r) for r in rows]


@dataclass(frozen=True)
class TrackerChoice:
    """Which registered trackers may be set for one visitor, which are blocked, and what to tell them."""

    allowed: tuple[dict[str, Any], ...]
    blocked: tuple[dict[str, Any], ...]
    warning: str | None


def trackers_for(eng: PolicyEngine, refused: Iterable[str] | Literal["all"] = (), *, gpc: bool = False) -> TrackerChoice:
    """The trackers that may be set for a visitor who refused some purposes (or ``"all"``: blocked in the browser).

    Refusal is always honoured and the service keeps working: nothing is refused in return, and the pack's
    ``refusal_effect`` comes back as the warning to show (KONZEN-09, KOKKOK-50, KAMOER-26). A Global Privacy Control
    signal (``gpc=True``) also blocks every third-party tracker."""
    cookies = _cookies(eng)
    if refused == "all":
        blocked_purposes: frozenset[str] | None = None
    else:
        blocked_purposes = frozenset(refused)
        known = set(cookies.purposes) if cookies is not None else set()
        unknown = sorted(blocked_purposes - known)
        if unknown:
            raise BadValueError(f"not tracker purposes of this pack: {', '.join(unknown)}")
    allowed: list[dict[str, Any]] = []
    blocked: list[dict[str, Any]] = []
    for t in list_trackers(eng):
        off = blocked_purposes is None or t["purpose"] in blocked_purposes or (gpc and t["party"] == "third")
        (blocked if off else allowed).append(t)
    warning = (cookies.refusal_effect if cookies is not None else None) if blocked else None
    return TrackerChoice(tuple(allowed), tuple(blocked), warning)
