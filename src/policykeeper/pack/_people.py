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


# -- words for the pack's values -------------------------------------------------------------------------------------

_BASIS = {
    "consent": "We do this only with your consent.",
    "explicit_consent": "We do this only with your explicit consent.",
    "separate_consent": "We do this only with your separate consent.",
    "parental_consent": "For a child, we do this only with a parent's consent.",
    "implied_by_use": "We do this when you use the service.",
    "contract": "We need this to give you the service you asked for.",
    "legal_obligation": "The law requires us to do this.",
    "legitimate_operation_security": "We need this to keep the service safe and working.",
    "legitimate_interest": "We do this because we have a legitimate interest in it.",
    "vital_interest_emergency": "We do this to protect someone's life or health in an emergency.",
    "public_interest": "We do this in the public interest.",
}

_GROUNDS = {
    "national_security": "national security", "national_defense": "national defence",
    "public_security": "public safety", "public_health": "public health",
    "major_public_interest": "an important public interest", "public_importance": "an important public interest",
    "criminal_proceedings": "a criminal investigation or trial", "protect_vital_interests": "to protect someone's life",
    "protect_rights_or_property": "to protect rights or property",
    "protect_users_or_customers": "to protect our users or customers",
    "publicly_disclosed_by_subject": "data you made public yourself",
    "lawfully_public_source": "data lawfully made public", "contract_necessity": "to carry out a contract with you",
    "contract_necessity_consent_impractical": "to carry out a contract with you when asking first is not practical",
    "safe_operation": "to keep the service safe", "news_reporting": "news reporting",
    "academic_research_deidentified": "research with data that no longer identifies you",
    "legal_requirement": "when the law requires it", "legal_obligation": "when the law requires it",
    "government_requirement": "when a government requires it",
    "legal_regulatory_requirement": "when the law or a regulator requires it",
    "litigation_dispute": "a legal dispute", "administrative_or_judicial_request": "an order of a court or authority",
    "enforce_policy": "to enforce our policies", "enforce_terms": "to enforce our terms",
    "good_faith_legal_requirement": "when we believe in good faith that the law requires it",
    "emergency_life_health_safety": "an emergency that threatens someone's life, health or safety",
    "complaint_handling": "to handle a complaint", "violation_disclosure": "to report a violation",
    "corporate_transaction": "a merger, sale or similar change of our business",
    "malice_or_abuse_of_rights": "a request made in bad faith",
    "serious_harm_to_rights": "serious harm to someone's rights", "trade_secret": "our trade secrets",
    "other_provided_by_law": "other cases the law provides for",
}

_RIGHTS = {
    "access": "See the data we hold about you.", "copy": "Get a copy of your data.",
    "correct": "Have wrong or missing data corrected.", "delete": "Have your data deleted.",
    "restrict": "Have us limit how we use your data.", "object": "Object to how we use your data.",
    "withdraw_consent": "Withdraw a consent you gave.",
    "portability": "Get your data in a machine-readable file, or have it sent to another organisation.",
    "cancel_account": "Close your account.", "clear_history": "Clear your history.",
    "automated_decision_explanation": "Get an explanation of a decision made by a computer alone.",
    "complain_internal": "Complain to us.", "complain_authority": "Complain to a data protection authority.",
    "manage_account": "Manage your account and its settings.",
}

_TERMS = {  # channels, controls and means named by a key in packs
    "email": "email", "postal": "post", "letter": "letter", "phone": "phone", "push": "app notification",
    "sms": "text message", "call": "phone call", "in_app": "the app", "website": "our website",
    "page": "our website", "prominent_notice": "a clear notice", "version_update_prompt": "a prompt when you update",
    "other_appropriate_means": "other suitable means", "announcement": "a public announcement",
    "settings": "the settings", "account_settings": "your account settings", "app_settings": "the app's settings",
    "os_settings": "your phone's settings", "self_service": "this privacy center",
    "authorization_page": "the permissions page", "contact": "contacting us", "contact_dpo": "our privacy officer",
    "unsubscribe_link": "the unsubscribe link", "unsubscribe_link_in_message": "the unsubscribe link in each message",
    "mailing_list_unsubscribe": "unsubscribing from the mailing list", "browser_settings": "your browser's settings",
    "block": "blocking them", "delete": "deleting them", "disable": "turning them off", "manage": "managing them",
    "unsubscribe": "unsubscribing", "cancel_account": "closing your account", "close_account": "closing your account",
    "clear_history": "clearing your history", "settings_delete": "deleting it in the settings",
}

_SYMBOLIC = {
    "immediately": "at once", "promptly": "promptly", "asap": "as soon as possible",
    "reasonable_period": "within a reasonable time", "per_applicable_law": "within the time the law sets",
}

_KEEP = {
    "necessary_for_purpose": "only as long as we need it for the purposes above",
    "shortest_necessary": "for the shortest time we need it",
    "per_applicable_law": "for as long as the law requires",
    "until_user_clears": "until you clear it",
    "until_account_cancelled": "until you close your account",
    "while_using_service": "while you use the service",
    "indefinite": "with no end date",
    "reasonable_period": "for a reasonable time",
}

_START = {
    "collection": "from when we collect it", "purpose_end": "after the purpose ends",
    "account_cancelled": "after you close your account", "service_ceased": "after the service ends",
    "user_clear_action": "after you clear it", "last_use": "from when you last use the service",
    "transaction": "from the transaction",
}

_END = {
    "delete": "Then we delete it.", "anonymize": "Then we make it anonymous.",
    "delete_or_anonymize": "Then we delete it or make it anonymous.", "destroy": "Then we destroy it.",
    "restrict_access": "Then we lock it so no one can use it.",
    "erase_destroy_anonymize_or_restrict": "Then we delete it, make it anonymous, or lock it so no one can use it.",
}

_SECURITY = {
    "industry_standard_measures": "Security measures that meet the industry's standards.",
    "encryption_in_transit": "Encryption while data travels.", "https": "Secure connections (HTTPS).",
    "encryption_at_rest": "Encryption of stored data.",
    "access_control_need_to_know": "Only staff who need the data can see it.",
    "confidentiality_obligation": "Everyone who handles your data must keep it confidential.",
    "dedicated_privacy_department": "A team dedicated to protecting personal data.",
    "staff_training": "Regular privacy and security training for staff.",
    "provider_screening": "We check our service providers before they start.",
    "audit_logging": "A record of who did what with the data.",
    "incident_records": "A record of every security incident.", "password_complexity": "Strong passwords.",
    "anti_attack": "Protection against attacks.",
    "loss_and_misuse_prevention": "Measures against loss, misuse and unauthorised access.",
    "storage_media_controls": "Controls on the media data is stored on.",
    "equal_protection_non_members": "The same protection whether or not you have an account.",
    "user_advisory": "Advice to help you protect your own data.",
    "liability": "We take responsibility for harm caused by a breach of our duties.",
}

_TECH = {
    "cookie": "cookies", "web_beacon": "web beacons", "pixel_tag": "pixel tags", "tag": "tags", "script": "scripts",
    "html5_lso": "local storage in your browser", "local_storage": "local storage in your browser",
    "advertising_id": "advertising identifiers", "identifier": "device identifiers",
}

_PRECONDITION = {
    "consent": "you agree", "security_assessment": "a security assessment has been passed",
    "de_identification": "the data no longer identifies you", "inform": "we have told you about it",
}

_BREACH_CONTENT = {
    "basic_situation": "what happened", "possible_impact": "what it may mean for you",
    "measures_taken_or_planned": "what we are doing about it", "subject_prevention_advice": "how you can protect yourself",
    "remedies": "how you can get it put right",
}

_HANDLES = {
    "questions": "questions", "rights_requests": "requests about your data", "complaints": "complaints",
    "account_cancellation": "closing your account", "corrections": "corrections",
}

_LANGUAGES = {"en": "English", "zh": "Chinese", "ko": "Korean", "lo": "Lao", "ja": "Japanese"}


# -- building ----------------------------------------------------------------------------------------------------


def _own_words(key: str) -> Own:
    return Own(key.replace("_", " "))


def _said(text: str) -> Own:
    """A sentence of the pack's, ending with a full stop (only one)."""
    text = text.strip()
    return Own(text if text[-1:] in ".!?。" else text + ".")


def _term(key: str) -> Value:
    return Text(_TERMS[key]) if key in _TERMS else _own_words(key)


def _list(values: Iterable[Value]) -> Value:
    """Several values as one: ``a, b and c`` in the reader's language."""
    items = list(values)
    if not items:
        return Own("")
    if len(items) == 1:
        return items[0]
    out: Value = _("%(first)s and %(last)s", first=items[-2], last=items[-1])
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
    return Text(_SYMBOLIC[str(d)]) if str(d) in _SYMBOLIC else None


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
        lang = _LANGUAGES.get(pack.language.split("-")[0])
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
        if p.legal_basis in _BASIS:
            s.append(Text(_BASIS[p.legal_basis]))
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
            cases += [Text(_GROUNDS[g]) for g in e.grounds if g in _GROUNDS]
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
            conds = [Text(_PRECONDITION[c]) for c in tr.preconditions]
            s.append(_("We send your data abroad only when %(conditions)s.", conditions=_list(conds))
                     if tr.precondition_logic == "all" or len(conds) < 2
                     else _("We send your data abroad only when at least one of these holds: %(conditions)s.",
                            conditions=_list(conds)))
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
            s: list[Value] = [_("We keep %(data)s for %(time)s %(start)s.", data=data, time=fixed, start=Text(_START[r.start]))]
        elif str(r.duration) in _KEEP:
            s = [_("We keep %(data)s %(time)s.", data=data, time=Text(_KEEP[str(r.duration)]))]
        else:
            continue
        if r.end_action == "keep_as_record":
            s.append(_("We keep it as a record: %(what)s.", what=Own(r.record_type or "record")))
        elif r.end_action in _END:
            s.append(Text(_END[r.end_action]))
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
        if r.type not in _RIGHTS:
            continue
        s = [Text(_RIGHTS[r.type])]
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
    kinds = [] if isinstance(pack.security, str) else [x for x in pack.security if x.kind in _SECURITY]
    if kinds:
        part.points += [Point([Text(_SECURITY[x.kind])], promises=_promises(x)) for x in kinds]
    b = pack.breach
    if not isinstance(b, str) and b.notify_subjects is True:
        when = _within(b.timing)
        s = [_("If a security breach puts your data at risk, we tell you %(when)s.", when=when) if when is not None
             else _("If a security breach puts your data at risk, we tell you.")]
        if b.content_fields:
            s.append(_("We tell you %(what)s.", what=_list(Text(_BREACH_CONTENT[c]) for c in b.content_fields)))
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
            techs = [Text(_TECH[t]) for t in ck.technologies if t in _TECH]
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
            s = [_("For %(what)s, %(how)s", what=_list(Text(_HANDLES[h]) for h in ch.handles), how=s[0])]
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
        lines += [plain(t) for t in part.intro] + ([""] if part.intro else [])
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
        out += [f"<p>{show(t)}</p>" for t in part.intro]
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
