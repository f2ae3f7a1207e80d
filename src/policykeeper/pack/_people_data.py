"""Parts of the people's notice about the data: who we are, what we collect and why, when we ask for it, who we
share it with, where it goes, and how long we keep it."""

from __future__ import annotations

from ._model import Pack
from ._people_model import Own, Part, Place, Point, Text, Value, _, _duration, _list, _names, _promises, _said, _term, _within
from ._people_words import BASIS, END, GROUNDS, KEEP, LANGUAGES, PRECONDITION, START

__all__ = ["data_parts"]


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


def data_parts(pack: Pack) -> list[Part | None]:
    """The parts about the data, in the order a reader looks for them (None where the pack says nothing)."""
    return [_who(pack), _collect(pack), _when(pack), _share(pack), _where(pack), _keep(pack)]
