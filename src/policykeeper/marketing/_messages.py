"""Messages to people (marketing only where the pack and the person's choice allow it, service always) and what the
app may display (ads and recommendations)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from typing import Literal, get_args

from .. import audit
from .._exceptions import BadValueError, ConfigError
from ..engine import Decision, PolicyEngine, Reason, Use
from ..notify import PERSON_CHANNELS, enqueue_to_person
from ..pack import lint_pack
from ..store import messages as message_store
from ._common import _deny, _halted, _promises, _receives, _refused, _rule, _subject_id
from ._preferences import unsubscribe_token

ENV_PUBLIC_URL = "POLICYKEEPER_PUBLIC_URL"
"""Where the service answers ``/unsubscribe`` (the base of every unsubscribe link), when not given explicitly."""

MessageKind = Literal["marketing", "service"]
Source = Literal["own", "partners", "sponsors", "advertisers"]


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
    now = eng.clock.at(now)
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
            if message_store.message_sent(conn, kind=kind, topic=topic, subject_id=sid, channel=channel):
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
            message_store.log_message(conn, pack_id=eng.pack.id, subject_id=sid, kind=kind, channel=channel,
                                      topic=topic, outbox_id=oid, created_at=now)
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
    now = eng.clock.at(now)
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
