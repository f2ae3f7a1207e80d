"""Trackers: cookies and similar technologies registered against the pack's closed lists, chosen per visitor from
the purposes they refused, and open-tracking in emails."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from .. import audit
from .._exceptions import BadValueError
from ..engine import PolicyEngine
from ..pack._lifecycle import TrackingTechnology
from ..store import marketing as marketing_store
from ..store.marketing import TrackerTerms
from ._common import _cookies, _deny, _halted, _promises, _rule, _subject_id, _targets

_TECHNOLOGIES = frozenset(get_args(TrackingTechnology))


def tracking_allowed(eng: PolicyEngine, external_id: str, *, now: dt.datetime | None = None) -> bool:
    """Whether an open-tracking pixel or web beacon may go into an email to the person.

    Only where the pack lists a pixel tag or web beacon placed in emails, and never after the person unsubscribed
    where the pack says unsubscribing stops tracking (Kamoer, KAMOER-28)."""
    now = eng.clock.at(now)
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
    now = eng.clock.at(now)
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
    detail = {"technology": technology, "purpose": purpose, "party": party, "recipient": recipient,
              "lifetime": lifetime, "placement": placement}
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
    terms = TrackerTerms.model_validate(detail)  # each a text now: checked above against the pack's lists
    with eng.db.begin() as conn:
        old = marketing_store.tracker_named(conn, eng.pack.id, name.strip())
        if old is not None:
            if old.terms != terms:
                raise BadValueError(f"a different tracker named {name.strip()!r} is already registered")
            return old.id
        tid = marketing_store.register_tracker(conn, pack_id=eng.pack.id, name=name.strip(), terms=terms, at=now,
                                               by=actor)
        audit.record(conn, kind="tracker", actor=actor, allowed=True, at=now, promises=promises,
                     pack_version=eng.compiled.version, detail={"event": "registered", "tracker": tid, **detail})
    return int(tid)


def list_trackers(eng: PolicyEngine) -> list[dict[str, Any]]:
    """The trackers registered for this pack, in registration order."""
    with eng.db.connect() as conn:
        rows = marketing_store.trackers_of(conn, eng.pack.id)
    return [{"id": r.id, "name": r.name, **r.terms.model_dump()} for r in rows]


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
