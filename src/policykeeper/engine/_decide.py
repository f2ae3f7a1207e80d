"""The decision point: ``decide(compiled_pack, facts, action) -> Decision``. Pure: no I/O, no clock.

A pack is compiled once into lookup tables (:class:`CompiledPack`); a decision is
then a handful of dict and set look-ups. Every denial names the rule (its path in
the pack) and the promise IDs it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from ..pack import Pack
from ..pack._data import CollectionContext, ConsentRule, DataCategory, FieldRequirement, Purpose
from ..pack._rights import AgeRule
from ..pack._sharing import DisclosureException, DisclosureRule, Recipient, TransferRule
from ..pack._types import Condition
from ._types import Action, Collect, Decision, Facts, Obligation, Reason, Share, Use

__all__ = ["CompiledPack", "compile_pack", "decide"]


@dataclass(frozen=True)
class CompiledPack:
    """A pack turned into the look-up tables decisions need."""

    pack: Pack
    version: str
    categories: MappingProxyType[str, DataCategory]
    purposes: MappingProxyType[str, tuple[int, Purpose]]
    contexts: MappingProxyType[str, tuple[int, CollectionContext, MappingProxyType[str, FieldRequirement]]]
    recipients: MappingProxyType[str, tuple[int, Recipient]]
    consent_targets: MappingProxyType[str, frozenset[str]]
    """target id -> ids that count as consent for it (the target itself and consent rules naming it)."""
    disclosure_rules: MappingProxyType[str, tuple[int, DisclosureRule]]
    """disclosure kind -> (index, rule): share, transfer_to_controller, public_disclosure..."""
    exceptions: MappingProxyType[str, DisclosureException]
    home_regions: frozenset[str] | None
    transfers: TransferRule | None
    minors: AgeRule | None


_SCOPE_TARGETS = {"transfer": "transfer", "minor_account": "parental_consent"}


def compile_pack(pack: Pack) -> CompiledPack:
    """Build the look-up tables once per pack version."""
    targets: dict[str, set[str]] = {}
    for cr in pack.consents:
        for t in cr.targets:
            targets.setdefault(t, {t}).add(cr.id)
        targets.setdefault(cr.id, {cr.id})
        if cr.scope == "identity_to_partners":  # consent to send identity data to the recipients it names
            for t in cr.targets:
                targets.setdefault(f"{t}:identity", {f"{t}:identity"}).add(cr.id)
        implied = _SCOPE_TARGETS.get(cr.scope)
        if implied:  # a consent rule about transfers counts as consent to "transfer", and so on
            targets.setdefault(implied, {implied}).add(cr.id)
    kinds: dict[str, tuple[int, DisclosureRule]] = {}
    for i, d in enumerate(pack.disclosures):
        kinds.setdefault(d.kind, (i, d))
    storage = pack.storage
    home = None if isinstance(storage, str) or isinstance(storage.home_regions, str) else frozenset(storage.home_regions)
    return CompiledPack(
        pack=pack,
        version=pack.version.label,
        categories=MappingProxyType({c.id: c for c in pack.data_categories}),
        purposes=MappingProxyType({p.id: (i, p) for i, p in enumerate(pack.purposes.items)}),
        contexts=MappingProxyType({
            c.id: (i, c, MappingProxyType({f.category: f for f in c.fields}))
            for i, c in enumerate(pack.collection.contexts)
        }),
        recipients=MappingProxyType({r.id: (i, r) for i, r in enumerate(pack.recipients)}),
        consent_targets=MappingProxyType({k: frozenset(v) for k, v in targets.items()}),
        disclosure_rules=MappingProxyType(kinds),
        exceptions=MappingProxyType({e.id: e for d in pack.disclosures for e in d.exceptions}),
        home_regions=home,
        transfers=None if isinstance(pack.transfers, str) else pack.transfers,
        minors=None if isinstance(pack.minors, str) else pack.minors,
    )


class _Verdict:
    """Collects reasons while a decision is made."""

    __slots__ = ("cp", "action", "reasons", "denied", "obligations", "dropped")

    def __init__(self, cp: CompiledPack, action: str) -> None:
        self.cp, self.action = cp, action
        self.reasons: list[Reason] = []
        self.denied = False
        self.obligations: list[Obligation] = []
        self.dropped: set[str] = set()

    def deny(self, code: str, message: str, rule: str, promises: tuple[str, ...] = ()) -> None:
        self.denied = True
        self.reasons.append(Reason(code, message, rule, promises))

    def ok(self, code: str, message: str, rule: str, promises: tuple[str, ...] = ()) -> None:
        self.reasons.append(Reason("ok_" + code, message, rule, promises))

    def oblige(self, kind: str, value: str = "", *, text: str = "", by: str = "caller", for_person: bool = False,
               promises: tuple[str, ...] = ()) -> None:
        if not any(o.kind == kind and o.value == value for o in self.obligations):
            self.obligations.append(Obligation(kind, value, text, "engine" if by == "engine" else "caller", for_person,
                                               promises))

    def done(self) -> Decision:
        return Decision(
            allowed=not self.denied,
            action=self.action,
            reasons=tuple(self.reasons),
            pack_id=self.cp.pack.id,
            pack_version=self.cp.version,
            obligations=tuple(self.obligations),
            dropped=frozenset(self.dropped),
        )


def _consented(cp: CompiledPack, facts: Facts, target: str) -> bool:
    if target in facts.uncovered:
        return False  # added to a consent rule after the person consented: needs their fresh consent
    ids = cp.consent_targets.get(target)
    if ids is None:
        return target in facts.consents
    return not facts.consents.isdisjoint(ids)


def _withdrawn_rule(cp: CompiledPack, facts: Facts, target: str) -> ConsentRule | None:
    """The consent rule covering ``target`` that the person withdrew or refused (and did not give again), if any."""
    ids = cp.consent_targets.get(target, frozenset({target}))
    if facts.objections.isdisjoint(ids) or not facts.consents.isdisjoint(ids):
        return None
    return next((c for c in cp.pack.consents if c.id in facts.objections and c.id in ids), None)


def _objected(cp: CompiledPack, facts: Facts, purpose: str, rule: str, v: _Verdict) -> None:
    """A purpose covered by a consent the person withdrew stops, unless a ground on which the pack allows
    processing without consent is recorded (``processing_without_consent``)."""
    c = _withdrawn_rule(cp, facts, purpose)
    pwc = cp.pack.processing_without_consent
    lawful = () if isinstance(pwc, str) else pwc.grounds
    if c is None and purpose in facts.objections and purpose not in facts.consents:
        if not facts.grounds & set(lawful):
            v.deny("objected", f"the person objected to {purpose!r}: processing for it stops", rule, ())
        return
    if c is None:
        return
    pwc = cp.pack.processing_without_consent
    lawful = () if isinstance(pwc, str) else pwc.grounds
    carried = facts.grounds & set(lawful)
    if carried:  # a ground on which the law allows processing without consent survives a withdrawal
        v.ok("legally_permitted", f"consent was withdrawn but {', '.join(sorted(carried))} is recorded", "consents",
             _merged(c.promises, () if isinstance(pwc, str) else pwc.promises))
        return
    v.deny("consent_withdrawn", f"consent {c.id!r} covering {purpose!r} was withdrawn: processing stops", rule,
           c.promises)


def _merged(*groups: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for g in groups for p in g))


def _unmet(cond: Condition | None, facts: Facts) -> list[str]:
    if cond is None:
        return []
    missing = [f for f in cond.all if not facts.holds(f)]
    if cond.any and not any(facts.holds(f) for f in cond.any):
        missing.append("any of " + ", ".join(cond.any))
    return missing


def decide(cp: CompiledPack, facts: Facts, action: Action) -> Decision:
    """Decide one action against the compiled pack. Pure and deterministic but for the decision id."""
    if isinstance(action, Collect):
        return _collect(cp, facts, action)
    if isinstance(action, Use):
        return _use(cp, facts, action)
    if isinstance(action, Share):
        return _share(cp, facts, action)
    raise TypeError(f"not an action: {action!r}")


BEYOND_AGREEMENT = frozenset({"legal_obligation", "vital_interest_emergency", "public_interest"})
"""Legal bases that do not rest on the person's agreement to the policy: under ``decline_effect: limited_service``
processing for a purpose on one of them goes on after the person declined; all else stops."""


def _acceptance(cp: CompiledPack, facts: Facts, v: _Verdict, purpose: str | None = None) -> None:
    """A declined policy: ``no_processing`` (and ``unspecified``, the safe reading) stops everything; under
    ``limited_service`` only purposes whose legal basis does not rest on the agreement (the law's) go on."""
    acc = cp.pack.acceptance
    if not facts.policy_declined:
        return
    promises = _merged(acc.promises, *(c.promises for c in cp.pack.consents if c.scope == "policy"))
    if acc.decline_effect != "limited_service":
        v.deny("policy_declined", "the person declined the policy: no processing", "acceptance.decline_effect",
               promises)
        return
    entry = cp.purposes.get(purpose) if purpose is not None else None
    if entry is not None and entry[1].legal_basis in BEYOND_AGREEMENT:
        v.ok("declined_limited_service", f"the person declined the policy, which limits the service; {entry[1].name} "
             f"rests on {entry[1].legal_basis.replace('_', ' ')}, not on their agreement", "acceptance.decline_effect",
             promises)
        return
    v.deny("policy_declined", "the person declined the policy: the service is limited to what the law requires "
           "(purposes on a legal obligation, vital or public interest)", "acceptance.decline_effect", promises)


def _collect(cp: CompiledPack, facts: Facts, a: Collect) -> Decision:
    v = _Verdict(cp, f"collect:{a.context}")
    _acceptance(cp, facts, v)
    entry = cp.contexts.get(a.context)
    if entry is None:
        v.deny("unknown_context", f"{a.context!r} is not a collection context of this pack", "collection.contexts",
               cp.pack.collection.promises)
        return v.done()
    i, ctx, fields = entry
    base = f"collection.contexts[{i}]"
    every = _merged(ctx.promises, *(f.promises for f in fields.values()))
    refused = _withdrawn_rule(cp, facts, ctx.id)
    if refused is not None and any(f.requirement == "essential" for f in fields.values()):
        v.deny("consent_refused", f"consent to the essential data of {ctx.name} was refused"
               + (f": {refused.refusal_notice}" if refused.refusal_notice else ""), base, refused.promises)
    for fact in _unmet(ctx.activation, facts):
        v.deny("condition_unmet", f"{ctx.name} collects only when {fact}", base + ".activation", every)
    if ctx.member_only and not _member(facts):
        v.deny("members_only", f"{ctx.name} is for members (account holders) only", base + ".member_only", every)
    col = cp.pack.collection
    for cat in sorted(a.categories - fields.keys()):
        if col.undeclared_fields == "drop":
            v.dropped.add(cat)
            v.ok("dropped", f"{cat!r} is not declared for {ctx.name}: dropped", "collection.undeclared_fields",
                 col.promises)
        else:
            v.deny("undeclared_field", f"{cat!r} is not declared for {ctx.name} (data minimisation)",
                   "collection.undeclared_fields", col.promises + ctx.promises)
    for j, (cat, req) in enumerate(fields.items()):
        rule = f"{base}.fields[{j}]"
        _refused_field(cp, facts, ctx, cat, req, rule, v)
        present = cat in a.categories
        if not present and req.requirement == "essential":
            v.deny("essential_missing", f"{cat!r} is essential for {ctx.name}"
                   + (f": {ctx.refusal_notice}" if ctx.refusal_notice else ""), rule, req.promises + ctx.promises)
        if not present:
            continue
        needs = req.consent_rule or (cat if req.requirement == "opt_in" or req.separate_authorization else None)
        if needs and not _consented(cp, facts, needs) and not (
            req.consent_rule is None and _consented(cp, facts, a.context)
        ):
            rule_promises = next((c.promises for c in cp.pack.consents if c.id == needs), ())
            v.deny("consent_missing", f"{cat!r} needs consent {needs!r} first", rule,
                   _merged(req.promises, rule_promises, ctx.promises))
        c = cp.categories[cat]
        if c.sensitive_kinds and col.sensitive_requires in ("explicit_consent", "consent"):
            if not (_consented(cp, facts, cat) or _consented(cp, facts, "sensitive_data")):
                v.deny("sensitive_needs_consent", f"{cat!r} is sensitive ({', '.join(c.sensitive_kinds)}): "
                       "explicit consent first", "collection.sensitive_requires", col.promises)
        if c.sensitive_kinds and col.sensitive_requires == "warn_on_publish":
            v.oblige("warn_sensitive", cat, text=f"{c.name} is sensitive: think before you publish it",
                     for_person=True, promises=col.promises)
    if col.channel_required and not isinstance(col.channels, str):
        if facts.channel is None or facts.channel not in col.channels:
            v.deny("channel_required", f"every record needs a collection channel from {', '.join(col.channels)}",
                   "collection.channels", col.promises)
    _age(cp, facts, v)
    for j, adv in enumerate(cp.pack.advisories):
        shown = (adv.trigger == "choose_password" and any(cp.categories[c].fides_key.startswith("user.authorization")
                                                          for c in a.categories if c in cp.categories)) or (
            adv.trigger == "publish_sensitive" and any(
                cp.categories[c].sensitive_kinds and cp.categories[c].fides_key.startswith("user.content")
                for c in a.categories if c in cp.categories))
        if shown:
            v.oblige("show_advisory", adv.id, text=adv.text, for_person=True, promises=adv.promises)
            v.ok("advisory", adv.text, f"advisories[{j}]", adv.promises)
    if not v.denied:
        taken = [f.promises for c, f in fields.items() if c in a.categories]
        v.ok("collect", f"{ctx.name} may collect these fields", base, _merged(ctx.promises, *taken))
    return v.done()


def _member(facts: Facts) -> bool:
    """A member is an account holder (KOSO: 'for account holders')."""
    return facts.holds("member") or facts.holds("account_exists")


def _refused_field(cp: CompiledPack, facts: Facts, ctx: CollectionContext, cat: str, req: FieldRequirement, rule: str,
                   v: _Verdict) -> None:
    """What refusing one field (withdrawing or refusing its consent) does to the context, as ``on_refusal`` says:
    it blocks the context or the feature, limits benefits, or has no effect beyond the field itself."""
    refused = _withdrawn_rule(cp, facts, req.consent_rule or cat)
    if refused is None or req.on_refusal in ("no_effect", "not_applicable"):
        return
    if req.on_refusal == "limit_benefits":
        v.oblige("limit_benefits", cat, promises=req.promises)  # the caller limits the benefits tied to the field
        v.ok("benefits_limited", f"{cat!r} was refused: {ctx.name} goes on with limited benefits", rule + ".on_refusal",
             req.promises)
        return
    what = ctx.name if req.on_refusal == "block_context" else f"the feature {ctx.name} (nothing else)"
    notice = refused.refusal_notice or ctx.refusal_notice
    v.deny("refused_" + req.on_refusal, f"{cat!r} was refused, which blocks {what}" + (f": {notice}" if notice else ""),
           rule + ".on_refusal", _merged(req.promises, refused.promises))


def _age(cp: CompiledPack, facts: Facts, v: _Verdict) -> None:
    m = cp.minors
    if m is None or facts.age is None or facts.age >= m.threshold:
        return
    if m.enforcement == "block_registration":
        v.deny("minor_blocked", f"under {m.threshold}: registration is refused", "minors", m.promises)
    elif m.enforcement == "require_parental_consent":
        if not (facts.holds("parental_consent") or _consented(cp, facts, "parental_consent")):
            v.deny("parental_consent_missing", f"under {m.threshold}: a parent's or guardian's consent first",
                   "minors", m.promises)
    else:
        v.oblige("show_minor_advisory", text=f"under {m.threshold}: advice for a {m.term} is shown", for_person=True,
                 promises=m.promises)
        v.ok("minor_advisory", f"under {m.threshold}: advice is shown", "minors", m.promises)
        for i, adv in enumerate(cp.pack.advisories):
            if adv.trigger == "minor_submits_data":
                v.oblige("show_advisory", adv.id, text=adv.text, for_person=True, promises=adv.promises)
                v.ok("advisory", adv.text, f"advisories[{i}]", adv.promises)


def _restricted(cp: CompiledPack, facts: Facts, v: _Verdict) -> None:
    """A person who asked to restrict processing: nothing but what a recorded legal ground requires."""
    if not facts.holds("restricted"):
        return
    pwc = cp.pack.processing_without_consent
    if not facts.grounds & set(() if isinstance(pwc, str) else pwc.grounds):
        rights = () if isinstance(cp.pack.rights, str) else cp.pack.rights
        promises = _merged(*(r.promises for r in rights if r.type == "restrict"))
        v.deny("restricted", "processing is restricted at the person's request", "rights", promises)


def _minor_data(cp: CompiledPack, facts: Facts, target: str, v: _Verdict) -> None:
    """A minor's data queued for deletion is not used; the pack's permitted uses of children's data are enforced."""
    m = cp.minors
    if m is None:
        return
    if facts.holds("queued_for_deletion"):
        v.deny("queued_for_deletion", f"a {m.term}'s data found without parental consent is queued for deletion",
               "minors.on_unconsented_discovery", m.promises)
        return
    if not m.permitted_uses or facts.age is None or facts.age >= m.threshold:
        return
    grounds = facts.grounds & {"permitted_by_law", "legal_requirement", "necessary_to_protect_the_child"}
    allowed = {
        "permitted_by_law": bool(grounds & {"permitted_by_law", "legal_requirement"}),
        "necessary_to_protect_the_child": "necessary_to_protect_the_child" in grounds,
        "explicit_parental_consent": _consented(cp, facts, f"parental_consent:{target}"),
    }
    if not any(allowed.get(u, False) for u in m.permitted_uses):
        promises = tuple(p for r in m.rules for p in r.promises) or m.promises
        v.deny("minor_use_not_permitted", f"a {m.term}'s data is used or disclosed only when "
               + " or ".join(u.replace("_", " ") for u in m.permitted_uses), "minors.permitted_uses", promises)


def _categories_beyond(item: Purpose | Recipient, verb: str, asked: frozenset[str], rule: str, v: _Verdict) -> None:
    """Deny the categories asked for beyond those a purpose may use or a recipient may receive, where it limits them."""
    if not isinstance(item.categories, str):
        extra = asked - set(item.categories)
        if extra:
            v.deny("category_not_allowed", f"{item.name} may not {verb} {', '.join(sorted(extra))}", rule + ".categories",
                   item.promises)


def _use(cp: CompiledPack, facts: Facts, a: Use) -> Decision:
    v = _Verdict(cp, f"use:{a.purpose}")
    _acceptance(cp, facts, v, a.purpose)
    _restricted(cp, facts, v)
    _minor_data(cp, facts, a.purpose, v)
    cat = cp.pack.purposes
    entry = cp.purposes.get(a.purpose)
    if entry is None:
        if cat.undeclared == "require_prior_consent" and (
            _consented(cp, facts, f"new_purpose:{a.purpose}") or a.purpose in facts.consents
        ):
            v.ok("new_purpose_consented", f"{a.purpose!r} is not in the pack but has prior consent", "purposes",
                 cat.promises)
        else:
            what = "is refused" if cat.undeclared == "reject" else "needs prior consent"
            v.deny("undeclared_purpose", f"{a.purpose!r} is not a declared purpose and {what}", "purposes",
                   cat.promises)
        return v.done()
    i, p = entry
    rule = f"purposes.items[{i}]"
    _categories_beyond(p, "use", a.categories, rule, v)
    unknown = a.categories - cp.categories.keys()
    if unknown:
        v.deny("unknown_category", f"not declared: {', '.join(sorted(unknown))}", "data_categories", ())
    _objected(cp, facts, p.id, rule, v)
    pwc = cp.pack.processing_without_consent
    without = facts.grounds & set(() if isinstance(pwc, str) else pwc.grounds)
    if p.member_only and not _member(facts):
        v.deny("members_only", f"{p.name} is for members (account holders) only", rule + ".member_only", p.promises)
    if p.requires_consent not in ("none", "implied_by_use") and not _consented(cp, facts, p.id) and without:
        v.ok("without_consent", f"no consent needed: {', '.join(sorted(without))} is recorded", "processing_without_consent",
             () if isinstance(pwc, str) else pwc.promises)
        if not isinstance(pwc, str) and pwc.record_required:
            v.oblige("record_ground", ",".join(sorted(without)), by="engine", promises=pwc.promises)
    elif p.requires_consent not in ("none", "implied_by_use") and not _consented(cp, facts, p.id):
        v.deny("consent_missing", f"{p.name} needs {p.requires_consent} consent, which is not given (or was withdrawn)",
               rule + ".requires_consent", p.promises)
    if p.aggregate_only and a.individual:
        v.deny("aggregate_only", f"{p.name} works on aggregated, group-level data only, never one person's values",
               rule + ".aggregate_only", p.promises)
    elif p.aggregate_only:
        v.oblige("aggregate_only", by="engine", promises=p.promises)
    if cp.transfers is not None and cp.transfers.remote_access_counts_as_transfer:
        _transfer(cp, facts, "the reader", facts.region, None, v)
    if not v.denied:
        v.ok("use", f"{p.name} may use these categories", rule, p.promises)
    return v.done()


def _share(cp: CompiledPack, facts: Facts, a: Share) -> Decision:
    v = _Verdict(cp, f"share:{a.recipient}")
    _acceptance(cp, facts, v, a.purpose)
    _restricted(cp, facts, v)
    _minor_data(cp, facts, a.recipient, v)
    entry = cp.recipients.get(a.recipient) if a.kind == "share" else None
    if entry is None:
        _ad_hoc_disclosure(cp, facts, a, v)
        return v.done()
    i, r = entry
    rule = f"recipients[{i}]"
    _categories_beyond(r, "receive", a.categories, rule, v)
    if a.purpose in cp.purposes:
        _objected(cp, facts, a.purpose, f"purposes.items[{cp.purposes[a.purpose][0]}]", v)
        needed = cp.purposes[a.purpose][1].categories
        if r.minimum_necessary and not isinstance(needed, str) and a.categories - set(needed):
            v.deny("beyond_minimum_necessary", f"{r.name} gets only what {a.purpose} needs, not "
                   + ", ".join(sorted(a.categories - set(needed))), rule + ".minimum_necessary", r.promises)
    if a.purpose not in r.purposes:
        v.deny("purpose_not_allowed", f"{r.name} may receive data only for {', '.join(r.purposes)}", rule + ".purposes",
               r.promises)
    identifying = [c for c in a.categories if c in cp.categories and cp.categories[c].identifying]
    identity_ok = _consented(cp, facts, r.id + ":identity") or _consented(cp, facts, "identity_to_partners")
    if identifying and r.identity_data == "forbidden":
        v.deny("identity_forbidden", f"identifying data ({', '.join(sorted(identifying))}) never goes to {r.name}",
               rule + ".identity_data", r.promises)
    elif identifying and r.identity_data == "requires_consent" and not identity_ok:
        v.deny("identity_needs_consent", f"identifying data goes to {r.name} only with explicit authorisation",
               rule + ".identity_data", r.promises)
    if r.required_agreements:
        have = facts.agreements & set(r.required_agreements)
        if (r.agreements_any_of and not have) or (not r.agreements_any_of and have != set(r.required_agreements)):
            joiner = " or " if r.agreements_any_of else " and "
            v.deny("agreement_missing", f"{r.name} needs {joiner.join(r.required_agreements)} on file first",
                   rule + ".required_agreements", r.promises)
    if r.consent != "none" and not _consented(cp, facts, r.id) and not (
        r.basis is not None and _consented(cp, facts, r.basis)
    ):
        if not (r.consent == "recipient_obtains_explicit" and facts.holds(f"consent:{r.id}:by_recipient")):
            v.deny("consent_missing", f"sharing with {r.name} needs {r.consent.replace('_', ' ')} consent", rule + ".consent",
                   r.promises)
    for fact in _unmet(r.trigger, facts):
        v.deny("condition_unmet", f"{r.name} receives data only when {fact}", rule + ".trigger", r.promises)
    if r.basis is not None:
        exc = cp.exceptions.get(r.basis)
        if exc is not None and exc.basis in ("explicit_consent", "separate_consent", "consent"):
            if not (_consented(cp, facts, r.id) or _consented(cp, facts, exc.id)):
                v.deny("consent_missing", f"sharing with {r.name} rests on {exc.basis.replace('_', ' ')}, not given",
                       "disclosures", exc.promises)
    if r.data_form == "de_identified" and not (identifying and identity_ok):
        # identity data goes in clear only with the person's authorisation
        v.oblige("de_identify", by="engine", promises=r.promises)
    if r.opt_out_url and r.id in facts.objections:
        v.deny("opted_out", f"the person opted out of {r.name}", rule + ".opt_out_url", r.promises)
    elif r.opt_out_url:
        v.oblige("offer_opt_out", r.opt_out_url, text=f"You can opt out of {r.name}: {r.opt_out_url}", for_person=True,
                 promises=r.promises)
    place = facts.region if r.place_of_processing == "unspecified" else r.place_of_processing
    _transfer(cp, facts, r.name, place, r.id, v)
    if not v.denied:
        v.ok("share", f"{r.name} may receive these categories for {a.purpose}", rule, r.promises)
    return v.done()


def _transfer(cp: CompiledPack, facts: Facts, who: str, place: str | None, rule_id: str | None,
              v: _Verdict) -> None:
    """A cross-border transfer (data sent to, or read from, outside the home regions) only under the transfer rule."""
    if place is None or place == "unspecified" or cp.home_regions is None or place in cp.home_regions:
        return
    t = cp.transfers
    if t is None or t.cross_border == "unspecified":
        return
    if t.cross_border == "not_allowed":
        v.deny("transfer_not_allowed", f"{who} is in {place}; no cross-border transfer is allowed",
               "transfers", t.promises)
        return
    checks = {
        "consent": _consented(cp, facts, "transfer") or (rule_id is not None and _consented(cp, facts, f"transfer:{rule_id}")),
        "security_assessment": place in facts.assessed or (rule_id is not None and rule_id in facts.assessed),
        "de_identification": facts.holds("de_identified"),
        "inform": facts.holds("transfer_informed") or _consented(cp, facts, "transfer"),
    }
    met = [checks[p] for p in t.preconditions]
    ok = all(met) if t.precondition_logic == "all" else any(met)
    if met and not ok:
        need = (" and " if t.precondition_logic == "all" else " or ").join(t.preconditions).replace("_", " ")
        v.deny("transfer_precondition", f"{who} is in {place}: a cross-border transfer needs {need} first",
               "transfers", t.promises)
        return
    if t.protection_standard:
        v.oblige("protection_standard", t.protection_standard,
                 text=f"{who} must protect the data to the standard: {t.protection_standard.replace('_', ' ')}",
                 promises=t.promises)
    v.ok("transfer", f"cross-border transfer to {place} meets {', '.join(t.preconditions) or 'the transfer rule'}",
         "transfers", t.promises)


def _ad_hoc_disclosure(cp: CompiledPack, facts: Facts, a: Share, v: _Verdict) -> None:
    """A disclosure to someone who is not a declared recipient: only through an exception of its disclosure rule."""
    ct = cp.pack.corporate_transactions
    if a.kind == "transfer_to_controller" and "corporate_transaction" in facts.grounds and not isinstance(ct, str):
        if facts.holds("successor_bound"):
            v.ok("corporate_transaction", f"the successor is bound ({ct.successor_bound_by.replace('_', ' ')})",
                 "corporate_transactions", ct.promises)
            if ct.notify_subject is True:
                v.oblige("notify_subject", a.recipient, by="engine", for_person=True, promises=ct.promises,
                         text=f"Your personal data was transferred to {a.recipient}, who is bound to protect it "
                              f"({ct.successor_bound_by.replace('_', ' ')}).")
            return
        if ct.otherwise != "reconsent" or not _consented(cp, facts, f"transfer_explicit_consent:{a.recipient}"):
            v.deny("successor_not_bound", f"{a.recipient!r} is not bound to protect the data "
                   f"({ct.successor_bound_by.replace('_', ' ')})" + (": the person must consent afresh"
                                                                     if ct.otherwise == "reconsent" else ""),
                   "corporate_transactions", ct.promises)
            return
    found = cp.disclosure_rules.get(a.kind)
    if found is None:
        what = "a declared recipient" if a.kind == "share" else f"allowed ({a.kind.replace('_', ' ')} is not provided for)"
        v.deny("unknown_recipient", f"{a.recipient!r} is not {what}", "recipients" if a.kind == "share" else "disclosures",
               ())
        return
    i, rule = found
    purpose = cp.purposes.get(a.purpose)
    if purpose is None:
        v.deny("undeclared_purpose", f"{a.purpose!r} is not a declared purpose: nothing is disclosed for it", "purposes",
               cp.pack.purposes.promises)
        return
    for exc in rule.exceptions:
        if _exception_applies(cp, facts, exc, a):
            j = rule.exceptions.index(exc)
            where = f"disclosures[{i}].exceptions[{j}]"
            if exc.minimum_necessary and not isinstance(purpose[1].categories, str):
                extra = a.categories - set(purpose[1].categories)
                if extra:
                    v.deny("beyond_minimum_necessary", f"only the minimum necessary for {purpose[1].name}: not "
                           + ", ".join(sorted(extra)), where, exc.promises)
                    return
            v.ok("exception", f"allowed by exception {exc.id!r}", where, exc.promises)
            if exc.record_required:  # the disclosure log names the exception (and the grounds) it relied on
                v.oblige("record_ground", f"{exc.id}:" + ",".join(sorted(facts.grounds & set(exc.grounds))), by="engine",
                         promises=exc.promises)
            if exc.minimum_necessary:
                v.oblige("minimum_necessary", by="engine", promises=exc.promises)
            ct = cp.pack.corporate_transactions
            if "corporate_transaction" in exc.grounds and not isinstance(ct, str):
                if ct.successor_bound_by == "pre_existing_agreed_policy":
                    v.oblige("carry_agreed_policy_version", by="engine", promises=ct.promises)
                    v.ok("policy_carried", "the data stays bound by the policy version the person agreed to",
                         "corporate_transactions", ct.promises)
            return
    if rule.default == "allow":
        v.ok("default_allow", f"{a.kind.replace('_', ' ')} is allowed by default", f"disclosures[{i}]", rule.promises)
        return
    v.deny("no_exception", f"{a.recipient!r} is not a declared recipient and no exception applies "
           "(record a lawful ground or consent)", f"disclosures[{i}]", rule.promises)


def _exception_applies(cp: CompiledPack, facts: Facts, exc: DisclosureException, a: Share) -> bool:
    if _unmet(exc.conditions, facts):
        return False
    if exc.basis == "lawful_ground":
        return bool(facts.grounds & set(exc.grounds))
    if exc.basis in ("explicit_consent", "separate_consent", "consent"):
        # the consent must name the recipient: consent to "exception:recipient", or to the recipient itself
        return _consented(cp, facts, f"{exc.id}:{a.recipient}") or a.recipient in facts.consents
    if exc.basis == "recipient_obtained_consent":
        return facts.holds(f"consent:{a.recipient}:by_recipient")
    return False
