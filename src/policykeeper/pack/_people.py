"""The policy for the people it is about: a plain-language privacy notice written from a pack.

``build_document`` (in ``_render``) shows every field of the pack for those who check it; this one says what a person
wants to know, in the order they look for it: who we are, what we collect and why, who gets it, where it goes, how
long we keep it, their rights and how to use them, children, security, marketing and cookies, changes, and how to
reach us. No ids, no keys, no internal notes (``source_issues`` stay in the console); durations and deadlines in
words. Each point keeps the promises it comes from, so a reader can follow a small link to the policy's own words.

Our sentences are English message ids (``_("...")``) translated through the pages' gettext catalogues; the pack's
own values (names of purposes and recipients, quotes) are :class:`Own` and stay in the pack's language.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Union

from ._model import Pack
from ._people_words import (
    BASIS,
    BREACH_CONTENT,
    END,
    GROUNDS,
    HANDLES,
    KEEP,
    LANGUAGES,
    PRECONDITION,
    RIGHTS,
    SECURITY,
    START,
    SYMBOLIC,
    TECH,
    TERMS,
)
from ._types import FixedDuration

__all__ = ["Own", "Part", "PeopleDocument", "Point", "Text", "people_document", "people_html", "people_markdown", "people_page"]


@dataclass(frozen=True)
class Own:
    """Text that comes from the pack itself: shown as it is, in the pack's language."""

    text: str


@dataclass(frozen=True)
class Place:
    """A country (ISO code) or a named area, named in the reader's language where it is a country."""

    code: str


Value = Union["Text", Own, Place, int]


@dataclass(frozen=True)
class Text:
    """One of our sentences: an English message id with ``%(name)s`` values."""

    msgid: str
    values: tuple[tuple[str, Value], ...] = ()


def _(msgid: str, **values: Value) -> Text:
    return Text(msgid, tuple(values.items()))


@dataclass
class Point:
    """One point of a part: an optional heading (the pack's name of a purpose or recipient), sentences, and the
    promises they come from."""

    sentences: Sequence[Value]
    heading: Own | None = None
    promises: tuple[str, ...] = ()
    bullets: bool = False
    """The sentences are items of a list (the cases of an exception), not a paragraph."""


@dataclass
class Part:
    anchor: str
    title: Text
    intro: list[Text] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    folded: bool = False
    """Points with headings are shown folded (a reader opens the one they want)."""


@dataclass
class PeopleDocument:
    title: Text
    dates: list[Text]
    parts: list[Part]
    words: list[tuple[str, str]]
    """The policy's own words: (anchor, quote) for every promise, for the curious."""
    language: str


# -- building ----------------------------------------------------------------------------------------------------


def _own_words(key: str) -> Own:
    return Own(key.replace("_", " "))


def _said(text: str) -> Own:
    """A sentence of the pack's, ending with a full stop (only one)."""
    text = text.strip()
    return Own(text if text[-1:] in ".!?。" else text + ".")


def _term(key: str) -> Value:
    return Text(TERMS[key]) if key in TERMS else _own_words(key)


def _list(values: Iterable[Value], either: bool = False) -> Value:
    """Several values as one: ``a, b and c`` (or ``a, b or c``) in the reader's language."""
    items = list(values)
    if not items:
        return Own("")
    if len(items) == 1:
        return items[0]
    out: Value = _("%(first)s or %(last)s", first=items[-2], last=items[-1]) if either \
        else _("%(first)s and %(last)s", first=items[-2], last=items[-1])
    for item in reversed(items[:-2]):
        out = _("%(first)s, %(rest)s", first=item, rest=out)
    return out


def _duration(d: object) -> Value | None:
    """A fixed duration in words: "30 days", "7 working days"; None where the pack gives no number."""
    if not isinstance(d, FixedDuration):
        return None
    n = d.value
    one = n == 1
    text = {
        "calendar_days": _("1 day") if one else _("%(n)s days", n=n),
        "business_days": _("1 working day") if one else _("%(n)s working days", n=n),
        "hours": _("1 hour") if one else _("%(n)s hours", n=n),
        "months": _("1 month") if one else _("%(n)s months", n=n),
        "years": _("1 year") if one else _("%(n)s years", n=n),
    }[d.unit]
    return _("%(time)s (%(hedge)s)", time=text, hedge=Own(d.qualifier)) if d.qualifier else text


def _within(d: object) -> Value | None:
    """A deadline in words: "within 15 working days", "promptly"."""
    fixed = _duration(d)
    if fixed is not None:
        return _("within %(time)s", time=fixed)
    return Text(SYMBOLIC[str(d)]) if str(d) in SYMBOLIC else None


def _promises(*rules: object) -> tuple[str, ...]:
    out: list[str] = []
    for r in rules:
        for p in getattr(r, "promises", ()):
            if p not in out:
                out.append(p)
    return tuple(out)


def _names(pack: Pack, ids: Iterable[str], kind: str) -> Value:
    table = {c.id: c.name for c in pack.data_categories} if kind == "data" else {p.id: p.name for p in pack.purposes.items}
    return Own(", ".join(table.get(i, i.replace("_", " ")) for i in ids))


def _who(pack: Pack) -> Part:
    c = pack.controller
    part = Part("who", _("Who we are"))
    sentences = [_("%(company)s is responsible for your personal data.", company=Own(c.legal_name))]
    if c.aliases:
        sentences.append(_("In this notice it is also called %(names)s.", names=Own(", ".join(c.aliases))))
    if c.products or c.sites:
        sentences.append(_("This notice covers %(what)s.", what=Own(", ".join(c.products + c.sites))))
    if c.includes_affiliates:
        sentences.append(_("It also covers our affiliated companies."))
    part.points.append(Point(sentences, promises=_promises(c)))
    if not isinstance(pack.prevailing_language, str):
        lang = LANGUAGES.get(pack.language.split("-")[0])
        if lang:
            part.points.append(Point([_("If versions of this notice in different languages disagree, the %(language)s "
                                        "version applies.", language=Text(lang))],
                                     promises=_promises(pack.prevailing_language)))
    return part


def _collect(pack: Pack) -> Part:
    pc = pack.purposes
    part = Part("collect", _("What we collect and why"), folded=True)
    part.intro.append(_("We use your data only for the purposes below.") if pc.closed
                      else _("We use your data for purposes that include the ones below."))
    part.intro.append(_("For any other purpose we do not use it.") if pc.undeclared == "reject"
                      else _("For any other purpose we ask you first."))
    if pack.collection.undeclared_fields in ("reject", "drop"):
        part.intro.append(_("We do not take data that is not listed here."))
    if pack.collection.sensitive_requires in ("explicit_consent", "consent"):
        part.intro.append(_("We take sensitive data only with your explicit consent."))
    for p in pc.items:
        s: list[Value] = []
        if p.description:
            s.append(_said(p.description))
        s.append(_("The data used: any of the data in this notice.") if isinstance(p.categories, str)
                 else _("The data used: %(data)s.", data=_names(pack, p.categories, "data")))
        if p.legal_basis in BASIS:
            s.append(Text(BASIS[p.legal_basis]))
        if p.aggregate_only:
            s.append(_("We use only totals that single no one out."))
        if not p.default_enabled:
            s.append(_("This is off until you turn it on."))
        if p.member_only:
            s.append(_("This applies only if you have an account."))
        part.points.append(Point(s, Own(p.name), _promises(p)))
    return part


def _when(pack: Pack) -> Part:
    part = Part("when", _("When we ask for it"), folded=True)
    for ctx in pack.collection.contexts:
        needed = [f.category for f in ctx.fields if f.requirement in ("essential", "feature_required")]
        optional = [f.category for f in ctx.fields if f.requirement in ("optional", "opt_in")]
        auto = [f.category for f in ctx.fields if f.requirement == "auto_collected"]
        s = []
        if needed:
            s.append(_("We ask for %(data)s.", data=_names(pack, needed, "data")))
        if optional:
            s.append(_("You may choose to give %(data)s.", data=_names(pack, optional, "data")))
        if auto:
            s.append(_("We record %(data)s automatically.", data=_names(pack, auto, "data")))
        if ctx.refusal_notice:
            s.append(_("If you do not give what we ask for: %(what)s", what=_said(ctx.refusal_notice)))
        part.points.append(Point(s, Own(ctx.name), _promises(ctx, *ctx.fields)))
    return part


def _share(pack: Pack) -> Part | None:
    if not pack.recipients and not pack.disclosures:
        return None
    part = Part("share", _("Who we share it with"), folded=True)
    for d in pack.disclosures:
        if d.kind != "share" or d.default != "deny":
            continue
        part.intro.append(_("We do not give your data to others unless one of these applies:"))
        cases: list[Value] = []
        for e in d.exceptions:
            if e.basis in ("consent", "explicit_consent", "separate_consent", "recipient_obtained_consent"):
                cases.append(_("you agree"))
            elif e.basis == "standing_recipients":
                cases.append(_("it goes to one of those listed below"))
            cases += [Text(GROUNDS[g]) for g in e.grounds if g in GROUNDS]
        unique = list(dict.fromkeys(cases))
        part.points.append(Point(unique, promises=_promises(d, *d.exceptions), bullets=True))
    if not isinstance(pack.recipient_list, str) and pack.recipient_list.non_exhaustive:
        part.intro.append(_("The list below gives examples; it is not complete."))
    for r in pack.recipients:
        s = [_("They use it for: %(purposes)s.", purposes=_names(pack, r.purposes, "purpose"))]
        if isinstance(r.categories, tuple):
            s.append(_("The data: %(data)s.", data=_names(pack, r.categories, "data")))
        if r.consent in ("explicit", "separate", "recipient_obtains_explicit"):
            s.append(_("Only with your consent."))
        if r.data_form == "de_identified":
            s.append(_("Only in a form that no longer identifies you."))
        if r.place_of_processing != "unspecified":
            s.append(_("They handle it in %(place)s.", place=Place(r.place_of_processing)))
        if r.controller_no_control:
            s.append(_("They set their own cookies; we do not control them."))
        if r.privacy_url:
            s.append(_("Their privacy notice: %(url)s", url=Own(r.privacy_url)))
        part.points.append(Point(s, Own(r.name), _promises(r)))
    ct = pack.corporate_transactions
    if not isinstance(ct, str):
        part.points.append(Point([_("If our business merges, is sold or changes hands, your data stays protected as "
                                    "this notice says.")], promises=_promises(ct)))
    return part


def _where(pack: Pack) -> Part | None:
    st, tr = pack.storage, pack.transfers
    if isinstance(st, str) and isinstance(tr, str):
        return None
    part = Part("transfers", _("Where we keep it and transfers abroad"))
    if not isinstance(st, str) and not isinstance(st.home_regions, str):
        part.points.append(Point([_("We keep your data in %(places)s.", places=_list(Place(x) for x in st.home_regions))],
                                 promises=_promises(st)))
    if not isinstance(tr, str):
        s: list[Value] = []
        if tr.cross_border == "not_allowed" and not tr.preconditions:
            s.append(_("Your data does not leave the country where we keep it."))
        elif tr.cross_border != "unspecified" or tr.preconditions:
            conds = [Text(PRECONDITION[c]) for c in tr.preconditions]
            s.append(_("We send your data abroad only when %(conditions)s.",
                       conditions=_list(conds, either=tr.precondition_logic == "any")))
        if tr.destination:
            s.append(_("It may go to %(where)s.", where=Own(tr.destination)))
        if tr.protection_standard:
            s.append(_("There it stays protected: %(how)s.", how=Own(tr.protection_standard)))
        if tr.inform_fields:
            s.append(_("Before that we tell you: %(what)s.", what=Own(", ".join(tr.inform_fields))))
        if s:
            part.points.append(Point(s, promises=_promises(tr)))
    return part if part.points else None


def _keep(pack: Pack) -> Part | None:
    part = Part("keep", _("How long we keep it"))
    for r in () if isinstance(pack.retention, str) else pack.retention:
        data = _("all your data") if isinstance(r.categories, str) else _names(pack, r.categories, "data")
        fixed = _duration(r.duration)
        if fixed is not None:
            s: list[Value] = [_("We keep %(data)s for %(time)s %(start)s.", data=data, time=fixed, start=Text(START[r.start]))]
        elif str(r.duration) in KEEP:
            s = [_("We keep %(data)s %(time)s.", data=data, time=Text(KEEP[str(r.duration)]))]
        else:
            continue
        if r.end_action == "keep_as_record":
            s.append(_("We keep it as a record: %(what)s.", what=Own(r.record_type or "record")))
        elif r.end_action in END:
            s.append(Text(END[r.end_action]))
        if (within := _within(r.within)) is not None:
            s.append(_("We do that %(when)s.", when=within))
        if r.legal_hold_override or r.legal_extension:
            s.append(_("If the law requires us to keep it longer, we do."))
        if r.continued_uses:
            s.append(_("Where the law allows, we may still use it for %(purposes)s.",
                       purposes=_names(pack, r.continued_uses, "purpose")))
        if r.user_control:
            s.append(_("You can end this yourself: %(how)s.", how=Own(r.user_control)))
        part.points.append(Point(s, promises=_promises(r)))
    er = pack.erasure
    if not isinstance(er, str):
        s = []
        if er.self_service_controls:
            s.append(_("You can delete data yourself by %(how)s.", how=_list(_term(x) for x in er.self_service_controls)))
        if er.propagate == "downstream_recipients":
            s.append(_("When we delete your data, we also ask those we shared it with to delete it."))
        elif er.propagate == "upstream_sources":
            s.append(_("When we delete your data, we also tell those we got it from."))
        s += [_said(t.quote) for t in er.triggers if t.quote]
        if s:
            part.points.append(Point(s, promises=_promises(er, *er.triggers)))
    b = pack.backups
    if not isinstance(b, str):
        lag = _within(b.max_lag)
        if b.immediate_purge is True:
            part.points.append(Point([_("Deleted data is also removed from our backups at once.")], promises=_promises(b)))
        elif lag is not None:
            part.points.append(Point([_("Copies in our backups are removed %(when)s.", when=lag)], promises=_promises(b)))
    return part if part.points else None


def _rights(pack: Pack) -> Part:
    part = Part("rights", _("Your rights and how to use them"))
    part.intro.append(_("You can:"))
    for r in () if isinstance(pack.rights, str) else pack.rights:
        if r.type not in RIGHTS:
            continue
        s = [Text(RIGHTS[r.type])]
        if r.conditions and r.status == "stated":
            s.append(_("This applies %(when)s.", when=Own(r.conditions)))
        if r.basis_limit:
            s.append(_("This covers data we use with your consent or to fulfil a contract with you.")
                     if set(r.basis_limit) <= {"consent", "contract"} and len(r.basis_limit) == 2
                     else _("This covers data we use with your consent.") if tuple(r.basis_limit) == ("consent",)
                     else _("This covers only some of your data."))
        ways = [_term(c) for c in r.channels if r.type != "complain_authority"]
        if ways:
            s.append(_("How: %(ways)s.", ways=_list(ways)))
        elif r.type == "complain_authority" and r.channels:
            s.append(_("Who: %(who)s.", who=Own(", ".join(r.channels))))
        part.points.append(Point(s, promises=_promises(r)))
    how = [_("To ask, sign in to this privacy center with a code we email you, then choose a request under “My "
             "requests”. You can also write to us (see “Contact us”).")]
    promises: list[object] = []
    rq = pack.requests
    if not isinstance(rq, str):
        v = rq.verification
        if not isinstance(v, str) and v.required == "always":
            how.append(_("We check that it is you before we act."))
            promises.append(v)
        for d in () if isinstance(rq.deadlines, str) else rq.deadlines:
            within = _within(d.duration)
            if within is None:
                continue
            subject = {"rights_request": _("We answer a request about your data %(when)s"),
                       "general_question": _("We answer a question %(when)s"),
                       "complaint": _("We answer a complaint %(when)s")}[d.applies_to]
            subject = Text(subject.msgid, (("when", within),))
            how.append(_("%(answer)s, counted from when we have checked it is you.", answer=subject)
                       if d.clock_start == "verification" else _("%(answer)s.", answer=subject))
            promises.append(d)
        f = rq.fees
        if not isinstance(f, str) and f.default_fee == 0:
            how.append(_("Asking is free.") if f.repeat_threshold == "unspecified"
                       else _("Asking is free, but we may charge our costs if you ask again and again."))
            promises.append(f)
        if not isinstance(rq.refusal, str):
            how.append(_("If we cannot do what you ask, we tell you why."))
            promises.append(rq.refusal)
        if rq.outcome_includes_complaint_route is True:
            how.append(_("Every answer tells you how to complain to the authority if you disagree."))
            promises.append(rq)
    part.points.append(Point(how, promises=_promises(*promises)))
    return part


def _children(pack: Pack) -> Part | None:
    m = pack.minors
    if isinstance(m, str):
        return None
    s: list[Value] = [{"block_registration": _("Children under %(age)s cannot open an account.", age=m.threshold),
          "require_parental_consent": _("For children under %(age)s, a parent or guardian must agree before we use "
                                        "their data.", age=m.threshold),
          "advisory": _("Children under %(age)s should ask a parent or guardian before giving us any data.",
                        age=m.threshold)}[m.enforcement]]
    if m.on_unconsented_discovery == "delete":
        when = _within(m.discovery_within)
        s.append(_("If we find we hold a child's data without a parent's consent, we delete it %(when)s.", when=when)
                 if when is not None else _("If we find we hold a child's data without a parent's consent, we delete it."))
    s += [_said(t) for t in m.advisory_texts]
    return Part("children", _("Children"), points=[Point(s, promises=_promises(m, *m.rules))])


def _security(pack: Pack) -> Part | None:
    part = Part("security", _("How we protect it"))
    kinds = [] if isinstance(pack.security, str) else [x for x in pack.security if x.kind in SECURITY]
    if kinds:
        part.points += [Point([Text(SECURITY[x.kind])], promises=_promises(x)) for x in kinds]
    b = pack.breach
    if not isinstance(b, str) and b.notify_subjects is True:
        when = _within(b.timing)
        s = [_("If a security breach puts your data at risk, we tell you %(when)s.", when=when) if when is not None
             else _("If a security breach puts your data at risk, we tell you.")]
        if b.content_fields:
            s.append(_("We tell you %(what)s.", what=_list(Text(BREACH_CONTENT[c]) for c in b.content_fields)))
        if b.channels:
            s.append(_("We tell you by %(how)s.", how=_list(_term(c) for c in b.channels)))
        if b.fallback_when_individual_notice_impractical == "public_announcement":
            s.append(_("If we cannot reach everyone, we make a public announcement."))
        if b.regulator_report is True:
            s.append(_("We also report it to the authorities."))
        part.points.append(Point(s, promises=_promises(b, *b.rules)))
    return part if part.points else None


def _choices(pack: Pack) -> Part | None:
    part = Part("choices", _("Marketing and cookies"))
    mk = pack.marketing
    if not isinstance(mk, str):
        s = []
        if mk.basis == "opt_in":
            s.append(_("We send you marketing only if you agree."))
        elif mk.basis == "opt_out":
            s.append(_("We may send you marketing. You can stop it at any time."))
        if not isinstance(mk.channels, str) and mk.channels:
            s.append(_("We may use %(channels)s.", channels=_list(_term(c) for c in mk.channels)))
        if mk.opt_out_methods:
            s.append(_("To stop it, use %(how)s.", how=_list(_term(c) for c in mk.opt_out_methods)))
        if mk.unsubscribe_in_every_message is True:
            s.append(_("Every marketing message has a link to unsubscribe."))
        if mk.service_messages_exempt is True:
            s.append(_("We still send messages about the service you use, such as your transactions."))
        if mk.honor_gpc is True:
            s.append(_("If your browser sends the Global Privacy Control signal, we take it as a no to selling or "
                       "sharing your data for advertising."))
        if s:
            part.points.append(Point(s, promises=_promises(mk, *mk.rules)))
    ck = pack.cookies
    if not isinstance(ck, str):
        if not ck.uses_tracking:
            s = [_("We use no cookies or similar tools to track you.")]
        else:
            techs = [Text(TECH[t]) for t in ck.technologies if t in TECH]
            s = [_("We use %(tools)s.", tools=_list(techs)) if techs else _("We use cookies and similar tools.")]
            if ck.purposes:
                s.append(_("They serve: %(purposes)s.", purposes=_names(pack, ck.purposes, "purpose")))
            if ck.third_party_allowed is True:
                s.append(_("Other companies may set their own cookies too."))
            if ck.user_controls:
                s.append(_("You can control them by %(how)s.", how=_list(_term(c) for c in ck.user_controls)))
            if ck.refusal_effect:
                s.append(_("If you refuse them: %(what)s", what=_said(ck.refusal_effect)))
        part.points.append(Point(s, promises=_promises(ck, *ck.rules)))
    ad = pack.automated_decisions
    if not isinstance(ad, str):
        s = [_("If a decision made by a computer alone affects your rights in a significant way, you can ask us to "
               "explain it.")]
        if ad.remedy:
            s.append(_("You can also ask a person to look at it again."))
        part.points.append(Point(s, promises=_promises(ad)))
    return part if part.points else None


def _changes(pack: Pack) -> Part:
    ch = pack.changes
    s: list[Value] = []
    notice = _duration(ch.advance_notice)
    channels = [_term(c) for c in ch.notice_channels]
    if notice is not None:
        s.append(_("We tell you at least %(time)s before a change takes effect.", time=notice))
    if channels:
        s.append(_("We tell you by %(how)s.", how=_list(channels)))
    if ch.significant_channels:
        s.append(_("For important changes we also use %(how)s.", how=_list(_term(c) for c in ch.significant_channels)))
    if ch.published_url:
        s.append(_("Each new version is published at %(url)s.", url=Own(ch.published_url)))
    if ch.no_rights_reduction_without_explicit_consent is True:
        s.append(_("We do not reduce your rights without your explicit consent."))
    if ch.acceptance in ("continued_use_after_posting", "continued_use_after_effective"):
        s.append(_("If you keep using the service after a change takes effect, the new notice applies."))
    elif ch.acceptance == "explicit":
        s.append(_("A change applies to you only once you accept it."))
    if not s:
        s.append(_("When this notice changes, the new version is published here with its date."))
    points = [Point(s, promises=_promises(ch, *ch.rules))]
    sc = pack.service_cessation
    if not isinstance(sc, str):
        when = _within(sc.within)
        points.append(Point([_("If the service closes, we tell you and delete or anonymise your data %(when)s.",
                               when=when) if when is not None
                             else _("If the service closes, we tell you and delete or anonymise your data.")],
                            promises=_promises(sc)))
    return Part("changes", _("Changes to this notice"), points=points)


def _contact(pack: Pack) -> Part:
    c = pack.contacts
    part = Part("contact", _("Contact us"))
    for ch in c.channels:
        kind = {"email": _("email"), "postal": _("post"), "form": _("form"), "phone": _("phone")}[ch.kind]
        s: list[Value] = [_("%(kind)s: %(value)s", kind=kind, value=Own(ch.value))]
        if ch.handles:
            s = [_("For %(what)s, %(how)s", what=_list(Text(HANDLES[h]) for h in ch.handles), how=s[0])]
        part.points.append(Point(s, Own(ch.role) if ch.role else None, _promises(ch)))
    if c.status == "missing" or not c.channels:
        part.points.append(Point([_("Use this privacy center to reach us: sign in and make a request.")],
                                 promises=_promises(c)))
    comp = c.complaints
    if not isinstance(comp, str):
        s = []
        if (when := _within(comp.response)) is not None:
            s.append(_("We answer complaints %(when)s.", when=when))
        if comp.external_authorities:
            s.append(_("You can also complain to %(who)s.", who=Own(", ".join(comp.external_authorities))))
        if s:
            part.points.append(Point(s, promises=_promises(comp)))
    return part


def people_document(pack: Pack) -> PeopleDocument:
    """The plain-language notice of ``pack`` as a document model (our sentences still to be translated)."""
    v = pack.version
    dates = []
    if v.updated_date != "unspecified":
        dates.append(_("Last updated: %(date)s.", date=Own(v.updated_date.isoformat())))
    if v.effective_date != "unspecified":
        dates.append(_("In force since: %(date)s.", date=Own(v.effective_date.isoformat())))
    parts = [_who(pack), _collect(pack), _when(pack), _share(pack), _where(pack), _keep(pack), _rights(pack), _children(pack),
             _security(pack), _choices(pack), _changes(pack), _contact(pack)]
    words = [(p.id.lower(), p.quote) for p in pack.promises]
    return PeopleDocument(_("How %(company)s uses your personal data", company=Own(pack.name)), dates,
                          [p for p in parts if p is not None], words, pack.language or "en")


# -- writing -----------------------------------------------------------------------------------------------------

Gettext = Callable[[str], str]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pieces(value: Value, gettext: Gettext, place: Callable[[str], str]) -> list[tuple[str, bool]]:
    """A value as pieces of text, each marked True when it is the pack's own (to be shown in the pack's language)."""
    if isinstance(value, Own):
        return [(value.text, True)] if value.text else []
    if isinstance(value, Place):
        return [(place(value.code), False)] if len(value.code) == 2 and value.code.isupper() \
            else [(value.code.replace("_", " "), True)]
    if isinstance(value, int):
        return [(str(value), False)]
    values = dict(value.values)
    out: list[tuple[str, bool]] = []
    for i, piece in enumerate(_PLACEHOLDER.split(gettext(value.msgid))):
        if i % 2 == 0:
            if piece:
                out.append((piece, False))
        elif piece in values:
            out += _pieces(values[piece], gettext, place)
    merged: list[tuple[str, bool]] = []
    for text, own in out:
        if merged and merged[-1][1] == own:
            merged[-1] = (merged[-1][0] + text, own)
        else:
            merged.append((text, own))
    return merged


def _english(text: str) -> str:
    return text


def _place_for(language: str) -> Callable[[str], str]:
    from babel import Locale

    try:
        names = Locale.parse(language.replace("-", "_")).territories
    except (ValueError, LookupError):
        names = Locale("en").territories
    return lambda code: str(names.get(code, code))


def plain(value: Value, gettext: Gettext = _english, language: str = "en") -> str:
    """A value as plain text in the reader's language."""
    return "".join(t for t, _own in _pieces(value, gettext, _place_for(language)))


def people_markdown(doc: PeopleDocument) -> str:
    """The notice as Markdown, in English."""
    lines = [f"# {plain(doc.title)}", ""] + [plain(d) for d in doc.dates] + [""]
    lines += [f"- [{plain(p.title)}](#{p.anchor})" for p in doc.parts] + [""]
    for part in doc.parts:
        lines += [f'<a id="{part.anchor}"></a>', f"## {plain(part.title)}", ""]
        lines += [" ".join(plain(t) for t in part.intro), ""] if part.intro else []
        for pt in part.points:
            refs = "".join(f" [↗](#{p.lower()})" for p in pt.promises)
            if pt.bullets:
                lines += [f"- {plain(t)}" for t in pt.sentences]
                continue
            body = " ".join(plain(t) for t in pt.sentences)
            lines.append(f"- **{pt.heading.text}**: {body}{refs}" if pt.heading else f"- {body}{refs}")
        lines.append("")
    lines += ['<a id="words"></a>', f"## {plain(_WORDS)}", ""]
    lines += [f'- <a id="{a}"></a>“{q}”' for a, q in doc.words]
    return "\n".join(lines) + "\n"


_WORDS = _("In the policy's own words")
_WORDS_LINK = _("The policy's own words")
_CONTENTS = _("Contents")


def people_html(doc: PeopleDocument, gettext: Gettext = _english, language: str = "en") -> str:
    """The notice as an HTML fragment (a table of contents, one <section> per part, points with headings folded),
    our sentences in ``language`` through ``gettext``, the pack's texts marked with the pack's language."""
    place = _place_for(language)
    own_lang = html.escape(doc.language)

    def show(value: Value) -> str:
        out = []
        for text, own in _pieces(value, gettext, place):
            esc = html.escape(text)
            out.append(f'<span lang="{own_lang}">{esc}</span>' if own and doc.language != language else esc)
        return "".join(out)

    link_name = html.escape(plain(_WORDS_LINK, gettext, language))

    def refs(promises: tuple[str, ...]) -> str:
        return "".join(f' <a class="words" href="#{html.escape(p.lower())}" aria-label="{link_name}">↗</a>'
                       for p in promises)

    out = [f'<h1>{show(doc.title)}</h1>']
    out += [f'<p class="muted">{show(d)}</p>' for d in doc.dates]
    out.append(f'<nav class="toc" aria-labelledby="toc-h"><h2 id="toc-h">{show(_CONTENTS)}</h2><ol>')
    out += [f'<li><a href="#{p.anchor}">{show(p.title)}</a></li>' for p in doc.parts]
    out.append("</ol></nav>")
    for part in doc.parts:
        out.append(f'<section id="{part.anchor}" aria-labelledby="{part.anchor}-h">'
                   f'<h2 id="{part.anchor}-h">{show(part.title)}</h2>')
        if part.intro:
            out.append(f"<p>{' '.join(show(t) for t in part.intro)}</p>")
        plain_points = [pt for pt in part.points if pt.heading is None or not part.folded]
        folded = [pt for pt in part.points if pt.heading is not None and part.folded]
        if plain_points:
            out.append("<ul>")
            for pt in plain_points:
                if pt.bullets:
                    out += [f"<li>{show(t)}</li>" for t in pt.sentences[:-1]]
                    out.append(f"<li>{show(pt.sentences[-1])}{refs(pt.promises)}</li>")
                    continue
                head = f"<strong>{show(pt.heading)}</strong>: " if pt.heading else ""
                out.append(f"<li>{head}{' '.join(show(t) for t in pt.sentences)}{refs(pt.promises)}</li>")
            out.append("</ul>")
        for pt in folded:
            assert pt.heading is not None
            out.append(f"<details><summary>{show(pt.heading)}</summary>"
                       f"<p>{' '.join(show(t) for t in pt.sentences)}{refs(pt.promises)}</p></details>")
        out.append("</section>")
    out.append(f'<section id="words" aria-labelledby="words-h"><details><summary><h2 id="words-h">{show(_WORDS)}'
               f'</h2></summary><ul lang="{own_lang}">')
    out += [f'<li id="{html.escape(a)}">“{html.escape(q)}”</li>' for a, q in doc.words]
    out.append("</ul></details></section>")
    return "\n".join(out)


def people_page(pack: Pack) -> str:
    """The notice as a standalone HTML page, in English."""
    doc = people_document(pack)
    lang = html.escape(doc.language)
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(plain(doc.title))}</title>\n<style>\n"
            "  body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; "
            "line-height: 1.5; color: #1a1a1a; overflow-wrap: anywhere; }\n"
            "  a { color: #0b4f9c; } a.words { text-decoration: none; font-size: .85em; }\n"
            "  details { border-bottom: 1px solid #ccc; padding: .35rem 0; } summary { cursor: pointer; }\n"
            "  summary h2 { display: inline; } :target { background: #fff4c2; } .muted { color: #4a4a4a; }\n"
            f"</style>\n</head>\n<body>\n<main>\n{people_html(doc, language=lang)}\n</main>\n</body>\n</html>\n")
