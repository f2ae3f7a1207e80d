"""Policy versions: publishing a new version of a pack, its diff, its notices and its effective date.

:func:`publish` records the new version next to the one in force, computes the diff (:func:`policykeeper.diff_packs`)
and refuses what the pack in force forbids: a version without the updated date its policy promises to carry, an
effective date sooner than the promised advance notice (KOKKOK: 7 business days), or fewer rights for people without
their explicit consent (KALOS). It then sends the notices the pack names: a publication record for every change on
the channels the pack uses for all changes (the policy page, the app), and for significant changes the extra channels
(a prominent notice; email to every person whose address is held, through the outbox).

The version in force at a moment is :func:`pack_at`; :func:`engine_at` gives an engine that enforces it, so a new
version governs processing only from its effective date. On acceptance-by-use packs the engine records acceptance on
the person's first use under the new version. Consent given under an older version covers what that version's
consent rule covered, never a purpose a later version added to it (the engine asks the registry).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict, Unpack

from sqlalchemy import Connection

from .. import audit
from .._exceptions import BadValueError
from ..clock import after, utc
from ..engine import PolicyEngine
from ..i18n import day_in, gettext_for, language_of_pack
from ..notify import enqueue_to_person, require_transports
from ..pack import Change, Pack, diff_packs
from ..pack._types import FixedDuration
from ..store import languages as language_store
from ..store import messages as message_store
from ..store import people as people_store
from ..store import versions as version_store
from ..store.versions import VersionRow
from ._words import change_words, pack_names

__all__ = ["Preview", "Published", "engine_at", "notice_for", "pack_at", "preview", "publish", "versions"]


@dataclass(frozen=True)
class Published:
    """A version as published: when people were told, when it takes effect, what changed and who was told how."""

    label: str
    notice_at: dt.datetime
    effective_at: dt.datetime
    significant: bool
    changes: tuple[Change, ...]
    channels: tuple[str, ...]
    emails: int = 0
    unreachable: int = 0
    explicit_consent_required: bool = False
    published_url: str | None = None
    promises: tuple[str, ...] = field(default_factory=tuple)


def _digest(pack: Pack) -> str:
    return hashlib.sha256(json.dumps(pack.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def _midnight(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)


def _baseline(conn: Connection, eng: PolicyEngine) -> None:
    """The registry starts with the version the engine was set up with, in force from its own dates."""
    if version_store.has_versions(conn, eng.pack.id):
        return
    v = eng.pack.version
    start = next((d for d in (v.effective_date, v.updated_date) if isinstance(d, dt.date)), dt.date(1970, 1, 1))
    at = _midnight(start)
    version_store.add_version(
        conn, eng.pack.id, label=v.label, digest=_digest(eng.pack), document=eng.pack.model_dump(mode="json"),
        published_at=at, notice_at=at, effective_at=at, significant=False,
        changes={"items": [], "channels": [], "baseline": True}, published_by="baseline")


def _rows(conn: Connection, pack_id: str) -> list[VersionRow]:
    return version_store.versions(conn, pack_id)


def versions(eng: PolicyEngine) -> list[dict[str, Any]]:
    """Every recorded version of the engine's pack, oldest first (without the pack documents)."""
    with eng.db.connect() as conn:
        return [{"label": r.label, "notice_at": utc(r.notice_at), "effective_at": utc(r.effective_at),
                 "significant": r.significant, "changes": r.changes, "published_by": r.published_by}
                for r in _rows(conn, eng.pack.id)]


_PACKS: dict[str, Pack] = {}


def _pack(row: VersionRow) -> Pack:
    if row.digest not in _PACKS:
        _PACKS[row.digest] = Pack.model_validate(row.document)
    return _PACKS[row.digest]


def pack_at(eng: PolicyEngine, at: dt.datetime) -> Pack:
    """The version in force at ``at``: the latest effective by then (the engine's own pack if none is recorded)."""
    with eng.db.connect() as conn:
        rows = [r for r in _rows(conn, eng.pack.id) if utc(r.effective_at) <= utc(at)]
    return _pack(rows[-1]) if rows else eng.pack


def engine_at(eng: PolicyEngine, at: dt.datetime | None = None) -> PolicyEngine:
    """An engine over the same database and keys that enforces the version in force at ``at`` (default now)."""
    pack = pack_at(eng, eng.clock.at(at))
    if pack.version.label == eng.pack.version.label:
        return eng
    return PolicyEngine(pack, eng.db, eng.keys, region=eng.region, clock=eng.clock)


def _check_dates(old: Pack, new: Pack, notice_at: dt.datetime, effective_at: dt.datetime) -> None:
    rule = old.changes
    promises = ", ".join(rule.promises)
    if rule.date_stamp in ("updated", "updated_and_effective"):
        heading = old.version.date_heading or "updated"
        if not isinstance(new.version.updated_date, dt.date):
            raise BadValueError(f"version.updated_date: every published version carries its {heading!r} date "
                                f"({promises})", kind="version_updated_missing")
        if isinstance(old.version.updated_date, dt.date) and new.version.updated_date <= old.version.updated_date:
            raise BadValueError(f"version.updated_date: {new.version.updated_date} is not later than the version in "
                                f"force ({old.version.updated_date}); the {heading!r} date must be updated ({promises})",
                                kind="version_updated_not_later", new=new.version.updated_date,
                                old=old.version.updated_date)
    if rule.date_stamp == "updated_and_effective":
        if not isinstance(new.version.effective_date, dt.date):
            raise BadValueError(f"version.effective_date: this policy states an effective date for every version "
                                f"({', '.join(old.version.promises) or promises})", kind="version_effective_missing")
        if effective_at.date() != new.version.effective_date:
            raise BadValueError(f"the effective date {effective_at.date()} differs from the one the version states "
                                f"({new.version.effective_date})", kind="version_effective_differs",
                                given=effective_at.date(), stated=new.version.effective_date)
    if effective_at < notice_at:
        raise BadValueError("a version cannot take effect before people are told of it", kind="version_before_notice")
    if isinstance(rule.advance_notice, FixedDuration):
        earliest = after(notice_at, rule.advance_notice)
        if effective_at < earliest:
            n = rule.advance_notice
            raise BadValueError(f"the effective date must be at least {n.value} {n.unit.replace('_', ' ')} after the "
                                f"notice ({notice_at.date()}): {earliest.date()} at the earliest, not "
                                f"{effective_at.date()} ({promises})", kind="version_advance_notice",
                                earliest=earliest.date(), n=n.value, unit=n.unit)


def _day(language: str, at: dt.datetime) -> str:
    return day_in(language, at.date())


def _notice_subject(language: str, effective_at: dt.datetime) -> str:
    _ = gettext_for(language)
    return _("Our privacy policy changes on %(day)s", day=_day(language, effective_at))


def _notice_text(new: Pack, published: Published, language: str | None = None) -> str:
    """The change notice in ``language`` (the pack's by default); the pack's own words stay in its language."""
    lang = language or language_of_pack(new.language)
    _ = gettext_for(lang)
    lines = [_("%(controller)s has updated its privacy policy (%(policy)s).", controller=new.controller.legal_name,
               policy=new.name),
             _("Version %(label)s takes effect on %(day)s.", label=published.label,
               day=_day(lang, published.effective_at))]
    significant = [c for c in published.changes if c.significant]
    if significant:
        names = pack_names(new)
        lines.append(_("What changes:"))
        lines += [f"- {change_words(_, c, names=names)}" for c in significant]
    if published.explicit_consent_required:
        lines.append(_("This version changes your rights; it applies to you only once you explicitly agree to it."))
    if published.published_url:
        lines.append(_("Read it in full at %(url)s.", url=published.published_url))
    return "\n".join(lines)


def notice_for(eng: PolicyEngine, label: str, language: str | None = None) -> str:
    """The notice text of a published version (no personal data): what changes and when it takes effect, in
    ``language`` (the pack's by default)."""
    with eng.db.connect() as conn:
        row = version_store.version(conn, eng.pack.id, label)
    if row is None:
        raise BadValueError(f"no version {label!r} of the {eng.pack.id} pack was published", kind="version_unknown")
    d = row.changes
    changes = tuple(Change(c["kind"], c["path"], c["description"], c["trigger"], c["significant"])
                    for c in d.get("items", []))
    return _notice_text(_pack(row), Published(row.label, utc(row.notice_at), utc(row.effective_at), row.significant,
                                              changes, tuple(d.get("channels", [])),
                                              explicit_consent_required=bool(d.get("explicit_consent_required")),
                                              published_url=d.get("published_url")), language)


def _plan(eng: PolicyEngine, rows: list[VersionRow], new: Pack, notice_at: dt.datetime, effective_at: dt.datetime,
          explicit_consent: bool) -> Published:
    """What publishing ``new`` after ``rows`` would do, once the pack in force's change rules are checked (raises
    :class:`BadValueError` saying which rule refuses it). Writes nothing."""
    if new.id != eng.pack.id:
        raise BadValueError(f"this is the {new.id!r} pack; the engine enforces {eng.pack.id!r}", kind="version_other_pack")
    if any(r.label == new.version.label for r in rows):
        raise BadValueError(f"version {new.version.label!r} is already published; give the new version its own label",
                            kind="version_label_taken", label=new.version.label)
    if not rows and new.version.label == eng.pack.version.label:  # the baseline, not yet on record
        raise BadValueError(f"version {new.version.label!r} is already published; give the new version its own label",
                            kind="version_label_taken", label=new.version.label)
    digests = {r.digest for r in rows} if rows else {_digest(eng.pack)}
    if _digest(new) in digests:
        raise BadValueError("this version is identical to one already published", kind="version_identical")
    old = _pack(rows[-1]) if rows else eng.pack
    _check_dates(old, new, notice_at, effective_at)
    changes = tuple(diff_packs(old, new))
    significant = any(c.significant for c in changes)
    reduces = [c for c in changes if c.trigger == "rights" and c.kind in ("removed", "changed")]
    guard = old.changes.no_rights_reduction_without_explicit_consent is True
    guard_promises = tuple(p for r in old.changes.rules for p in r.promises) + old.changes.promises
    if reduces and guard and not explicit_consent:
        raise BadValueError(f"this version reduces people's rights ({'; '.join(c.description for c in reduces)}); "
                            f"it needs their explicit consent: publish with explicit consent required "
                            f"({', '.join(dict.fromkeys(guard_promises))})", kind="version_reduces_rights")
    rule = old.changes
    channels = tuple(dict.fromkeys(rule.notice_channels + (rule.significant_channels if significant else ())))
    url = rule.published_url or new.changes.published_url or new.version.published_url
    published = Published(new.version.label, notice_at, effective_at, significant, changes, channels,
                          explicit_consent_required=bool(reduces and guard), published_url=url,
                          promises=tuple(dict.fromkeys((*rule.promises, *(p for r in rule.rules for p in r.promises),
                                                        *new.version.promises))))
    require_transports(channels, f"the {eng.pack.id} pack's change notice ({', '.join(published.promises)})")
    return published


@dataclass(frozen=True)
class Preview:
    """What :func:`publish` would do with the same arguments now: the version as it would be published (its diff,
    dates, channels), the notice people would read, and how many people the email channel would reach."""

    published: Published
    previous: str
    notice: str
    reachable: int
    unreachable: int
    against: Pack
    """The version the new one was checked against (the latest published): its change rules applied."""


class PublishTerms(TypedDict, total=False):
    """How a new version is published, one keyword each (all optional): ``effective_at``, when it takes effect (default:
    the date the version states, else at once); ``notice_at``, when people are told (default now);
    ``explicit_consent``, that a version that reduces rights applies to each person only once they explicitly agree
    (default False). :func:`preview` and :func:`publish` take the same."""

    effective_at: dt.datetime | None
    notice_at: dt.datetime | None
    explicit_consent: bool


def _terms(new: Pack, terms: PublishTerms, now: dt.datetime) -> tuple[dt.datetime, dt.datetime, bool]:
    """(notice_at, effective_at, explicit_consent) of ``terms``, defaults filled in; a keyword that is none of them is
    refused, as Python refuses one."""
    for name in terms:
        if name not in PublishTerms.__optional_keys__:
            raise TypeError(f"unexpected keyword argument {name!r}")
    notice_at = terms.get("notice_at") or now
    effective_at = terms.get("effective_at")
    if effective_at is None:
        effective_at = _midnight(new.version.effective_date) if isinstance(new.version.effective_date, dt.date) \
            else notice_at
    return notice_at, effective_at, terms.get("explicit_consent", False)


def preview(
    eng: PolicyEngine,
    new: Pack,
    *,
    now: dt.datetime | None = None,
    **terms: Unpack[PublishTerms],
) -> Preview:
    """Check ``new`` against the change rules of the version in force and show what publishing it would do, without
    writing anything; raises :class:`BadValueError` as :func:`publish` would."""
    now = eng.clock.at(now)
    notice_at, effective_at, explicit_consent = _terms(new, terms, now)
    with eng.db.connect() as conn:
        rows = _rows(conn, eng.pack.id)
        published = _plan(eng, rows, new, notice_at, effective_at, explicit_consent)
        reachable = unreachable = 0
        if "email" in published.channels:
            for sid in people_store.subjects_with_keys(conn, eng.pack.id):
                if eng.email_of_subject(conn, sid) is None:
                    unreachable += 1
                else:
                    reachable += 1
    previous = _pack(rows[-1]) if rows else eng.pack
    return Preview(published, previous.version.label, _notice_text(new, published), reachable, unreachable, previous)


def publish(
    eng: PolicyEngine,
    new: Pack,
    *,
    actor: str = "privacy_officer",
    now: dt.datetime | None = None,
    **terms: Unpack[PublishTerms],
) -> Published:
    """Publish ``new`` as the next version of the engine's pack, in one transaction: record it with its diff, check
    the pack's change rules, and queue its notices (``terms``: see :class:`PublishTerms`). ``explicit_consent``
    acknowledges that a version that reduces rights applies to each person only once they explicitly agree (where the
    pack promises that)."""
    now = eng.clock.at(now)
    notice_at, effective_at, explicit_consent = _terms(new, terms, now)
    with eng.db.begin() as conn:
        _baseline(conn, eng)
        rows = _rows(conn, eng.pack.id)
        published = _plan(eng, rows, new, notice_at, effective_at, explicit_consent)
        old_label = _pack(rows[-1]).version.label
        changes, significant, channels, url = (published.changes, published.significant, published.channels,
                                                published.published_url)
        digest = _digest(new)
        written: dict[str, tuple[str, str]] = {}  # by language: the person's last used, else the pack's

        def notice(sid: str) -> tuple[str, str]:
            lang = language_store.of_subject(conn, eng.keys, sid) or language_of_pack(new.language)
            if lang not in written:
                written[lang] = (_notice_subject(lang, effective_at), _notice_text(new, published, lang))
            return written[lang]

        topic = f"version:{new.version.label}"[:64]
        sent = {"email": 0, "push": 0}
        unreachable = 0
        for channel in channels:
            if channel not in sent:  # the page, the app, a prominent notice: one publication record each
                message_store.log_message(conn, pack_id=eng.pack.id, subject_id="", kind="policy_notice",
                                          channel=channel, topic=topic, outbox_id=None, created_at=now)
                continue
            for sid in people_store.subjects_with_keys(conn, eng.pack.id):
                if channel == "push" and eng.keys.is_shredded(sid):
                    continue
                # one push per person, addressed to the pseudonymous id (see notify); an email to the address held
                to = sid if channel == "push" else eng.email_of_subject(conn, sid)
                if to is None:
                    unreachable += 1
                    continue
                subject, text = notice(sid)
                mid = enqueue_to_person(conn, eng.keys, kind="policy_notice", channel=channel, to=to,
                                        subject=subject, body=text, now=now)
                message_store.log_message(conn, pack_id=eng.pack.id, subject_id=sid, kind="policy_notice",
                                          channel=channel, topic=topic, outbox_id=mid, created_at=now)
                sent[channel] += 1
        emails, pushes = sent["email"], sent["push"]
        published = replace(published, emails=emails, unreachable=unreachable)
        version_store.add_version(
            conn, eng.pack.id, label=new.version.label, digest=digest, document=new.model_dump(mode="json"),
            published_at=now, notice_at=notice_at, effective_at=effective_at, significant=significant,
            changes={"items": [c.__dict__ for c in changes], "channels": list(channels), "published_url": url,
                     "explicit_consent_required": published.explicit_consent_required},
            published_by=actor)
        audit.record(conn, kind="policy_version", actor=actor, at=now, pack_version=new.version.label,
                     promises=published.promises,
                     detail={"label": new.version.label, "previous": old_label, "significant": significant,
                             "changes": len(changes), "channels": list(channels), "emails": emails, "pushes": pushes,
                             "unreachable": unreachable, "effective_at": effective_at.isoformat()})
    return published

