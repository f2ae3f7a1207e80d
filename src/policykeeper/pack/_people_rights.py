"""Parts of the people's notice about the person: their rights and how to use them, children, security,
marketing and cookies, changes to the notice, and how to reach us."""

from __future__ import annotations

from ._model import Pack
from ._people_model import Own, Part, Point, Text, Value, _, _duration, _list, _names, _promises, _said, _term, _within
from ._people_words import BREACH_CONTENT, HANDLES, RIGHTS, SECURITY, TECH

__all__ = ["person_parts"]


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


def person_parts(pack: Pack) -> list[Part | None]:
    """The parts about the person, in the order a reader looks for them (None where the pack says nothing)."""
    return [_rights(pack), _children(pack), _security(pack), _choices(pack), _changes(pack), _contact(pack)]
