"""Every field of the pack model, accounted for: *enforced* (and where) or *descriptive* (and why).

A pack field that changes nothing is a promise nobody keeps. This registry sits next to the model and marks each
field ``Model.field`` (inherited fields under the class that declares them, e.g. ``Rule.promises``):

* :class:`Enforced` names the modules (paths under ``policykeeper/``) whose code reads the field to decide, act or
  produce evidence. ``tests/pack/test_enforcement.py`` fails when a named module does not read the attribute, and
  when a field of the model has no marking.
* :class:`Descriptive` says the field is rendered only (the human-readable policy, the pack's own checks) and why:
  either it is information, or it is behavioural but cannot be enforced by the engine (the reason says what stops it).

The pack's JSON Schema (``policykeeper pack schema``) shows each field's marking as ``x-enforcement``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ENFORCEMENT", "Descriptive", "Enforced", "Marking", "marking_of"]


@dataclass(frozen=True)
class Enforced:
    """Code in ``where`` (module paths under ``policykeeper/``) reads the field and acts on it."""

    where: tuple[str, ...]

    def as_schema(self) -> dict[str, Any]:
        return {"marking": "enforced", "where": list(self.where)}


@dataclass(frozen=True)
class Descriptive:
    """Rendered only; ``reason`` says why nothing enforces it."""

    reason: str

    def as_schema(self) -> dict[str, Any]:
        return {"marking": "descriptive", "reason": self.reason}


Marking = Enforced | Descriptive


def E(*where: str) -> Enforced:  # noqa: N802 - short constructor for the table below
    return Enforced(where)


def D(reason: str) -> Descriptive:  # noqa: N802
    return Descriptive(reason)


_INFO = "information about the policy, rendered in the human-readable policy"
_SOURCE = "records the state of the policy text (stated, missing, garbled); used by pack review, not at run time"
_TEXT = "wording shown to people in the rendered policy"
_CATALOGUE = "a list the policy states for the reader; the engine works on the structured fields next to it"

ENFORCEMENT: dict[str, Marking] = {
    # -- shared -----------------------------------------------------------------------------------------------
    "Rule.promises": E("engine/_decide.py", "incidents/_notices.py"),
    "Rule.quote": D("the exact sentence of the policy a rule encodes, for tracing a decision back to the text"),
    "Promise.quote": D("the exact sentence of the policy a promise comes from, for tracing"),
    "FixedDuration.value": E("clock.py", "requests/_deadlines.py"),
    "FixedDuration.unit": E("clock.py", "requests/_deadlines.py"),
    "FixedDuration.qualifier": E("requests/_deadlines.py"),
    "Condition.all": E("engine/_decide.py"),
    "Condition.any": E("engine/_decide.py"),
    # -- root ---------------------------------------------------------------------------------------------------
    "Promise.id": E("web/admin.py", "web/api/_public.py"),
    "Promise.tag": E("web/api/_public.py"),
    "Promise.statement": E("web/api/_public.py"),
    "Controller.legal_name": E("requests/_erasure.py", "versions/__init__.py", "consent/__init__.py"),
    "Controller.aliases": D(_INFO + " (other names the controller trades under)"),
    "Controller.includes_affiliates": D(_INFO + "; which affiliates receive data is enforced through the recipients"),
    "Controller.jurisdiction": E("consent/__init__.py"),
    "Controller.address": E("consent/__init__.py"),
    "Controller.products": D(_INFO + " (the products the policy covers)"),
    "Controller.sites": D(_INFO + " (the sites the policy covers)"),
    "Controller.app_ids": D(_INFO + " (the apps the policy covers)"),
    "PolicyVersion.label": E("engine/_decide.py", "consent/__init__.py"),
    "PolicyVersion.updated_date": E("versions/__init__.py"),
    "PolicyVersion.effective_date": E("versions/__init__.py"),
    "PolicyVersion.published_url": E("consent/__init__.py", "versions/__init__.py"),
    "PolicyVersion.date_heading": E("versions/__init__.py"),
    "SourceIssue.kind": D(_SOURCE),
    "SourceIssue.description": D(_SOURCE),
    "SourceIssue.promises": D(_SOURCE),
    "TaxonomyExtensions.data_categories": D("checked when the pack loads (every key extends a known one); a "
                                            "taxonomy, not a behaviour"),
    "TaxonomyExtensions.data_uses": D("checked when the pack loads (every key extends a known one); a taxonomy, "
                                      "not a behaviour"),
    "TaxonomyExtension.key": D("a taxonomy key, checked when the pack loads"),
    "TaxonomyExtension.parent_key": D("a taxonomy key, checked when the pack loads"),
    "TaxonomyExtension.name": D("a taxonomy key's human name"),
    "TaxonomyExtension.description": D("a taxonomy key's description"),
    "Pack.pack_format": D("the format version, checked when the pack loads"),
    "Pack.id": E("requests/_base.py", "engine/_decide.py"),
    "Pack.name": D("a human name, used in messages and in the rendered policy"),
    "Pack.source_file": D("which policy text the pack encodes, for review"),
    "Pack.promise_prefix": D("checked when the pack loads: every promise ID carries it"),
    "Pack.version": E("engine/_decide.py", "consent/__init__.py"),
    "Pack.controller": E("requests/_erasure.py", "consent/__init__.py"),
    "Pack.prevailing_language": D(_INFO + " (which language version governs)"),
    "Pack.language": E("consent/__init__.py"),
    "Pack.principles": D(_TEXT + " (principles are kept by the rules that encode them)"),
    "Pack.principles_rule": D(_TEXT + " (principles are kept by the rules that encode them)"),
    "Pack.definitions": D(_TEXT),
    "Pack.glossary": D(_TEXT),
    "Pack.presentation": D("how the policy text itself is presented; the rendered policy follows it"),
    "Pack.acceptance": E("engine/_decide.py", "consent/__init__.py"),
    "Pack.contacts": E("requests/_base.py", "consent/__init__.py"),
    "Pack.taxonomy": D("taxonomy extensions, checked when the pack loads"),
    "Pack.data_categories": E("engine/_decide.py", "incidents/__init__.py"),
    "Pack.purposes": E("engine/_decide.py"),
    "Pack.collection": E("engine/_decide.py"),
    "Pack.consents": E("engine/_decide.py", "engine/_engine.py"),
    "Pack.processing_without_consent": E("engine/_decide.py"),
    "Pack.recipients": E("engine/_decide.py"),
    "Pack.recipient_list": D(_CATALOGUE),
    "Pack.disclosures": E("engine/_decide.py"),
    "Pack.corporate_transactions": E("engine/_decide.py"),
    "Pack.storage": E("engine/_decide.py"),
    "Pack.transfers": E("engine/_decide.py"),
    "Pack.retention": E("retention/_clear.py", "retention/_events.py", "retention/_plans.py"),
    "Pack.erasure": E("requests/_erasure.py"),
    "Pack.backups": E("deletion/__init__.py"),
    "Pack.rights": E("engine/_decide.py", "requests/_base.py", "requests/_fulfil.py", "requests/_submit.py"),
    "Pack.requests": E("requests/_base.py", "requests/_deadlines.py", "requests/_fulfil.py", "requests/_submit.py"),
    "Pack.minors": E("engine/_decide.py"),
    "Pack.security": E("engine/_transfers.py", "incidents/__init__.py", "organisation/__init__.py"),
    "Pack.breach": E("incidents/__init__.py", "incidents/_notices.py"),
    "Pack.changes": E("versions/__init__.py"),
    "Pack.service_cessation": E("retention/_cessation.py", "retention/_plans.py"),
    "Pack.marketing": E("marketing/_common.py"),
    "Pack.cookies": E("marketing/_common.py"),
    "Pack.automated_decisions": E("requests/_fulfil.py"),
    "Pack.advisories": E("engine/_decide.py"),
    "Pack.scope_exclusions": D(_INFO + " (what the policy says is outside its scope: nothing to enforce)"),
    "Pack.source_issues": D(_SOURCE),
    "Pack.promises": E("web/admin.py", "web/api/_public.py"),
    # -- data, purposes, collection, consent --------------------------------------------------------------------------
    "DataCategory.id": E("engine/_decide.py"),
    "DataCategory.name": D("a human name, used in messages and in the rendered policy"),
    "DataCategory.fides_key": E("engine/_decide.py", "engine/_engine.py"),
    "DataCategory.fields": D(_CATALOGUE + " (a category's example fields; collection is by category)"),
    "DataCategory.open_list": D(_CATALOGUE + " (the policy's field list ends with 'etc.')"),
    "DataCategory.classes": D("classifies the category for the reader; the behaviour hangs on sensitive_kinds, "
                              "identifying and personal"),
    "DataCategory.personal": D("whether the policy counts the category as personal data; every value the engine "
                               "holds is encrypted either way"),
    "DataCategory.identifying": E("engine/_decide.py"),
    "DataCategory.sensitive_kinds": E("engine/_decide.py", "consent/__init__.py"),
    "DataCategory.origin": D(_INFO + " (where the data comes from); the source of a record is recorded per record"),
    "DataCategory.stop_control": D("names the device or app control that stops collection (e.g. turn off "
                                   "positioning); that control lives outside the engine"),
    "DataCategory.source_status": D(_SOURCE),
    "Purpose.id": E("engine/_decide.py"),
    "Purpose.name": D("a human name, used in messages and in the rendered policy"),
    "Purpose.group": D(_INFO + " (the heading the policy groups a purpose under)"),
    "Purpose.description": D(_TEXT),
    "Purpose.data_use": E("consent/__init__.py", "marketing/_messages.py"),
    "Purpose.legal_basis": E("requests/_fulfil.py", "consent/__init__.py"),
    "Purpose.categories": E("engine/_decide.py"),
    "Purpose.aggregate_only": E("engine/_decide.py"),
    "Purpose.requires_consent": E("engine/_decide.py"),
    "Purpose.default_enabled": D("whether a consent switch shows as on before the person chooses; the engine "
                                 "never treats a purpose that needs consent as consented without a ledger entry"),
    "Purpose.member_only": E("engine/_decide.py"),
    "PurposeCatalog.closed": D("stated for the reader; 'undeclared' carries the behaviour for purposes outside "
                               "the list"),
    "PurposeCatalog.undeclared": E("engine/_decide.py"),
    "PurposeCatalog.repurposing": D("the engine already refuses values collected for another purpose unless the "
                                    "person consented to the new one, whatever this field says"),
    "PurposeCatalog.items": E("engine/_decide.py"),
    "FieldRequirement.category": E("engine/_decide.py"),
    "FieldRequirement.requirement": E("engine/_decide.py"),
    "FieldRequirement.on_refusal": E("engine/_decide.py"),
    "FieldRequirement.purposes": E("engine/_actions.py"),
    "FieldRequirement.separate_authorization": E("engine/_decide.py"),
    "FieldRequirement.consent_rule": E("engine/_decide.py"),
    "CollectionContext.id": E("engine/_decide.py"),
    "CollectionContext.name": D("a human name, used in messages and in the rendered policy"),
    "CollectionContext.member_only": E("engine/_decide.py"),
    "CollectionContext.activation": E("engine/_decide.py"),
    "CollectionContext.purposes": E("engine/_actions.py"),
    "CollectionContext.fields": E("engine/_decide.py"),
    "CollectionContext.refusal_notice": E("engine/_decide.py"),
    "CollectionContext.creates_account": E("engine/_engine.py"),
    "CollectionContext.open_list": D(_CATALOGUE + " (the policy's field list ends with 'etc.'; undeclared fields "
                                     "are refused or dropped all the same)"),
    "CollectionRules.contexts": E("engine/_decide.py"),
    "CollectionRules.undeclared_fields": E("engine/_decide.py"),
    "CollectionRules.channels": E("engine/_decide.py"),
    "CollectionRules.channel_required": E("engine/_decide.py"),
    "CollectionRules.sensitive_requires": E("engine/_decide.py"),
    "CollectionRules.sensitive_kinds": D(_CATALOGUE + " (the sensitive kinds the policy lists; each category's "
                                         "sensitive_kinds carries the behaviour)"),
    "CollectionRules.rules": D("further collection statements kept for their promise IDs and quotes"),
    "ConsentRule.id": E("engine/_decide.py"),
    "ConsentRule.scope": E("engine/_decide.py", "marketing/_common.py"),
    "ConsentRule.targets": E("engine/_decide.py"),
    "ConsentRule.type": D("the kind of consent (opt-in, explicit, separate...), shown in the privacy center; "
                            "every kind is one ledger entry checked by target, and the engine cannot observe "
                            "how explicit the person's act was"),
    "ConsentRule.default": E("engine/_decide.py"),
    "ConsentRule.withdrawable": E("web/_center_consents.py"),
    "ConsentRule.withdraw_channels": D("names where the policy says withdrawal can be done (settings, email...); "
                                       "the privacy center and API offer withdrawal for every withdrawable rule"),
    "ConsentRule.withdrawal_effect": E("deletion/__init__.py"),
    "ConsentRule.retroactive": E("deletion/__init__.py"),
    "ConsentRule.refusal_notice": E("engine/_decide.py", "engine/_engine.py"),
    "ConsentRule.basic_data_locked_while_used": E("engine/_consent.py"),
    "AcceptanceRule.model": E("engine/_consent.py"),
    "AcceptanceRule.recorded_on": D("when acceptance is recorded; the engine records it on first use or the "
                                    "explicit action, following 'model'"),
    "AcceptanceRule.decline_effect": E("engine/_decide.py", "engine/_consent.py"),
    "AcceptanceRule.shown_before_first_use": D("whether the app shows the policy before first use: the app's "
                                               "screen flow, outside the engine"),
    "LawfulGroundsRule.grounds": E("engine/_decide.py"),
    "LawfulGroundsRule.record_required": E("engine/_decide.py"),
    # -- sharing ----------------------------------------------------------------------------------------------------------
    "Recipient.id": E("engine/_decide.py"),
    "Recipient.name": D("a human name, used in messages and in the rendered policy"),
    "Recipient.category": E("marketing/_messages.py"),
    "Recipient.named_entity": D(_INFO + " (a named company rather than a category)"),
    "Recipient.third_party": E("web/api/_evidence.py"),
    "Recipient.privacy_url": D(_INFO + " (link to the recipient's own policy)"),
    "Recipient.terms_url": D(_INFO + " (link to the recipient's terms)"),
    "Recipient.opt_out_url": E("engine/_decide.py"),
    "Recipient.place_of_processing": E("engine/_decide.py"),
    "Recipient.categories": E("engine/_decide.py"),
    "Recipient.purposes": E("engine/_decide.py"),
    "Recipient.identity_data": E("engine/_decide.py"),
    "Recipient.data_form": E("engine/_decide.py"),
    "Recipient.required_agreements": E("engine/_decide.py"),
    "Recipient.agreements_any_of": E("engine/_decide.py"),
    "Recipient.consent": E("engine/_decide.py"),
    "Recipient.may_repurpose": D("what the recipient does with data after it left: outside the engine's reach; "
                                 "every share is limited to the recipient's declared purposes"),
    "Recipient.minimum_necessary": E("engine/_decide.py"),
    "Recipient.controller_no_control": D(_INFO + " (the recipient sets its own cookies; the controller cannot "
                                         "control it)"),
    "Recipient.trigger": E("engine/_decide.py"),
    "Recipient.basis": E("engine/_decide.py"),
    "Recipient.source_status": D(_SOURCE),
    "RecipientList.non_exhaustive": D(_CATALOGUE + " (the policy's list of recipients says 'include' or 'etc.')"),
    "RecipientList.closed_categories": D("a recipient the pack does not declare is refused unless one of the "
                                         "disclosure rule's exceptions applies, so partners outside the listed "
                                         "categories are refused whatever this says"),
    "RecipientList.source_status": D(_SOURCE),
    "DisclosureException.id": E("engine/_decide.py"),
    "DisclosureException.basis": E("engine/_decide.py"),
    "DisclosureException.grounds": E("engine/_decide.py"),
    "DisclosureException.recipient_categories": D("ad-hoc recipients carry no category the engine could check; "
                                                  "the exception's basis and grounds decide"),
    "DisclosureException.conditions": E("engine/_decide.py"),
    "DisclosureException.record_required": E("engine/_decide.py"),
    "DisclosureException.pre_notice_fields": E("engine/_consent.py"),
    "DisclosureException.minimum_necessary": E("engine/_decide.py"),
    "DisclosureException.standard": D("the legal standard of belief ('good faith', 'reasonably believes') is a "
                                      "human judgement; the recorded ground carries it"),
    "DisclosureRule.id": D("names the rule in the rendered policy; decisions point at rules by their path"),
    "DisclosureRule.kind": E("engine/_decide.py"),
    "DisclosureRule.default": E("engine/_decide.py"),
    "DisclosureRule.exempt_recipient_categories": D("which declared recipients the default leaves out; declared "
                                                    "recipients are governed by their own entries"),
    "DisclosureRule.exceptions": E("engine/_decide.py"),
    "CorporateTransactionRule.events": D(_CATALOGUE + " (merger, sale, bankruptcy...; the engine acts on the "
                                         "recorded corporate_transaction ground)"),
    "CorporateTransactionRule.notify_subject": E("engine/_decide.py"),
    "CorporateTransactionRule.successor_bound_by": E("engine/_decide.py"),
    "CorporateTransactionRule.otherwise": E("engine/_decide.py"),
    "StorageRule.home_regions": E("engine/_decide.py"),
    "StorageRule.media": D(_INFO + " (where data sits: app cache, database, logs)"),
    "StorageRule.central_database": D(_INFO + " (the engine's store is one database whatever this says)"),
    "TransferRule.cross_border": E("engine/_decide.py"),
    "TransferRule.currently_active": D(_INFO + " (whether transfers happen today); every transfer is decided by "
                                       "the rule's preconditions"),
    "TransferRule.preconditions": E("engine/_decide.py", "engine/_decisions.py", "engine/_transfers.py"),
    "TransferRule.precondition_logic": E("engine/_decide.py"),
    "TransferRule.inform_fields": E("engine/_consent.py"),
    "TransferRule.protection_standard": E("engine/_decide.py"),
    "TransferRule.remote_access_counts_as_transfer": E("engine/_decide.py"),
    "TransferRule.destination": D(_TEXT + " (where transfers may go, in the policy's words)"),
    # -- rights and requests ------------------------------------------------------------------------------------------
    "Right.type": E("engine/_decide.py", "requests/_base.py", "requests/_fulfil.py", "requests/_submit.py"),
    "Right.conditions": D(_TEXT + " ('in some cases', as the policy says)"),
    "Right.basis_limit": E("requests/_fulfil.py"),
    "Right.channels": D("where the policy says a right is exercised (settings, email...); requests come in "
                        "through the privacy center, the API and the CLI"),
    "Right.constraints": D(_TEXT + "; locked_fields carries the behaviour"),
    "Right.locked_fields": E("requests/_fulfil.py"),
    "Right.format": D("exports are machine-readable (JSON and CSV) for every pack"),
    "Right.status": D(_SOURCE),
    "VerificationRule.required": D("every request is verified (one-time code or a staff check) before it is "
                                   "fulfilled, which meets 'always' and 'may' alike"),
    "VerificationRule.before_processing": D("every request is verified before it is fulfilled, whatever this says"),
    "VerificationRule.methods": E("requests/_submit.py", "requests/_verify.py"),
    "VerificationRule.agent_authority_check": E("requests/_submit.py"),
    "VerificationRule.every_login": E("web/_auth.py"),
    "DeadlineRule.id": E("requests/_deadlines.py"),
    "DeadlineRule.applies_to": E("requests/_deadlines.py"),
    "DeadlineRule.duration": E("requests/_deadlines.py"),
    "DeadlineRule.clock_start": E("requests/_deadlines.py"),
    "DeadlineRule.tracked": D("every fixed deadline is tracked; symbolic ones are kept as words"),
    "FeeRule.default_fee": E("requests/_submit.py"),
    "FeeRule.default_qualifier": D(_TEXT + " ('generally', 'in principle')"),
    "FeeRule.repeat_threshold": E("requests/_submit.py"),
    "FeeRule.charge": E("requests/_submit.py"),
    "FeeRule.mode": E("requests/_submit.py"),
    "RefusalRule.discretionary": E("requests/_fulfil.py"),
    "RefusalRule.mandatory": E("requests/_fulfil.py"),
    "RefusalRule.reason_code_required": D("every refusal needs one of the pack's grounds, whatever this says"),
    "RequestHandling.verification": E("requests/_base.py"),
    "RequestHandling.deadlines": E("requests/_base.py", "requests/_deadlines.py"),
    "RequestHandling.fees": E("requests/_submit.py"),
    "RequestHandling.refusal": E("requests/_fulfil.py"),
    "RequestHandling.outcome_includes_complaint_route": E("requests/_base.py"),
    "RequestHandling.rules": D("further request statements kept for their promise IDs and quotes"),
    "AgeRule.threshold": E("engine/_decide.py"),
    "AgeRule.term": D("the word the policy uses for a minor (child, minor), used in messages"),
    "AgeRule.audience_note": D(_TEXT),
    "AgeRule.enforcement": E("engine/_decide.py"),
    "AgeRule.age_source": E("engine/_engine.py"),
    "AgeRule.parental_consent_verifiable": D("how a parent's consent is verified is the operator's process; the "
                                             "engine requires the consent on its ledger"),
    "AgeRule.permitted_uses": E("engine/_decide.py"),
    "AgeRule.on_unconsented_discovery": E("engine/_minors.py"),
    "AgeRule.discovery_within": E("engine/_minors.py"),
    "AgeRule.advisory_texts": D(_TEXT),
    "AgeRule.rules": E("engine/_decide.py"),
    "AutomatedDecisionRule.trigger": D("the only trigger the format knows (significant effect on rights)"),
    "AutomatedDecisionRule.explanation_on_request": E("requests/_fulfil.py"),
    "AutomatedDecisionRule.remedy": E("requests/_fulfil.py"),
    "ContactChannel.kind": E("consent/__init__.py"),
    "ContactChannel.value": E("requests/_base.py", "consent/__init__.py"),
    "ContactChannel.role": D(_INFO + " (e.g. Data Protection Officer)"),
    "ContactChannel.handles": E("requests/_base.py"),
    "ComplaintRule.internal_channel": D(_INFO + "; complaints come in as requests of kind 'complaint'"),
    "ComplaintRule.response": D("the answer time for complaints is tracked through the deadline rule that applies to complaints"),
    "ComplaintRule.external_authorities": E("requests/_base.py"),
    "Contacts.status": E("requests/_base.py"),
    "Contacts.channels": E("requests/_base.py"),
    "Contacts.complaints": E("requests/_base.py"),
    "Contacts.shown_in": D("where the contact appears in the policy text"),
    "UserAdvisory.id": E("engine/_decide.py"),
    "UserAdvisory.trigger": E("engine/_decide.py"),
    "UserAdvisory.text": E("engine/_decide.py"),
    # -- lifecycle ----------------------------------------------------------------------------------------------------
    "RetentionRule.id": E("retention/_plans.py", "retention/_sweep.py"),
    "RetentionRule.categories": E("retention/_clear.py", "retention/_holds.py", "retention/_plans.py"),
    "RetentionRule.purposes": E("retention/_events.py", "retention/_plans.py"),
    "RetentionRule.duration": E("retention/_plans.py"),
    "RetentionRule.start": E("retention/_clear.py", "retention/_events.py", "retention/_plans.py"),
    "RetentionRule.end_action": E("retention/_plans.py"),
    "RetentionRule.within": E("retention/_plans.py"),
    "RetentionRule.legal_hold_override": E("deletion/__init__.py", "retention/_plans.py"),
    "RetentionRule.legal_extension": D("a longer period the law requires is applied through a legal hold on the "
                                       "record; the engine cannot know the law"),
    "RetentionRule.exempt_from_purpose_end": E("retention/_plans.py"),
    "RetentionRule.record_type": D(_INFO + " (which business record the rule keeps)"),
    "RetentionRule.continued_uses": D("purposes that may continue where the law allows: a recorded legal ground "
                                      "lets processing go on, which the engine checks per decision"),
    "RetentionRule.user_control": D("names the control that ends retention (e.g. clear history); the control is "
                                    "the clear-history request"),
    "ErasureRule.grounds": E("requests/_erasure.py"),
    "ErasureRule.grounds_closed": E("requests/_erasure.py"),
    "ErasureRule.propagate": E("requests/_erasure.py"),
    "ErasureRule.propagation_exceptions": E("requests/_erasure.py"),
    "ErasureRule.end_action": E("retention/_plans.py"),
    "ErasureRule.legal_hold_override": E("deletion/__init__.py"),
    "ErasureRule.self_service_controls": D("names the app controls through which people delete data themselves; "
                                           "those controls call the engine's erasure"),
    "ErasureRule.triggers": D("further erasure statements kept for their promise IDs and quotes"),
    "BackupRule.backup_is_declared_purpose": D(_INFO + " (backup is one of the policy's purposes)"),
    "BackupRule.immediate_purge": D("erasure destroys the person's key, so copies in backups are unreadable at "
                                    "once (crypto-shredding) whatever the policy allows"),
    "BackupRule.max_lag": D("erasure destroys the person's key, so backups are unreadable at once, within any lag"),
    "BackupRule.interim": D("backups hold only ciphertext whose key is destroyed on erasure"),
    "BackupRule.end": D("backups hold only ciphertext whose key is destroyed on erasure"),
    "BackupRule.erasure_covers_backups": E("deletion/__init__.py"),
    "ChangeRule.date_stamp": E("versions/__init__.py"),
    "ChangeRule.publication_page": D("whether the policy is published on a page: the operator's website"),
    "ChangeRule.published_url": D(_INFO + " (the page the policy is published on)"),
    "ChangeRule.advance_notice": E("versions/__init__.py"),
    "ChangeRule.notice_channels": E("versions/__init__.py"),
    "ChangeRule.significant_triggers": D("which changes the policy calls significant; the diff classifies "
                                         "changes by the format's own baseline triggers"),
    "ChangeRule.significant_triggers_closed": D("the diff classifies changes by the format's own baseline triggers"),
    "ChangeRule.significant_channels": E("versions/__init__.py"),
    "ChangeRule.no_rights_reduction_without_explicit_consent": E("versions/__init__.py"),
    "ChangeRule.acceptance": D("a new version governs from its effective date and acceptance-by-use packs "
                               "record acceptance on first use after it; explicit acceptance is asked for "
                               "by publishing with explicit_consent"),
    "ChangeRule.show_effective_date": D("how the policy page shows its dates: the rendered policy"),
    "ChangeRule.rules": D("further change statements kept for their promise IDs and quotes"),
    "ServiceCessationRule.notify_channels": E("retention/_cessation.py"),
    "ServiceCessationRule.end_action": E("retention/_plans.py"),
    "ServiceCessationRule.within": E("retention/_plans.py"),
    "ServiceCessationRule.legal_hold_override": E("deletion/__init__.py", "retention/_plans.py"),
    "BreachRule.notify_subjects": E("incidents/__init__.py"),
    "BreachRule.timing": D("'promptly' and the like: the time from discovery to notice is measured and shown "
                           "(notice_timing), but a word sets no deadline the engine could hold"),
    "BreachRule.content_fields": E("incidents/_notices.py"),
    "BreachRule.channels": E("incidents/_notices.py"),
    "BreachRule.fallback_when_individual_notice_impractical": E("incidents/_notices.py"),
    "BreachRule.regulator_report": D("whether the policy promises a report to the regulator; the report can be "
                                     "produced for every incident"),
    "BreachRule.incident_record_fields": E("incidents/__init__.py"),
    "BreachRule.liability_accepted": E("incidents/__init__.py"),
    "BreachRule.rules": E("incidents/_notices.py"),
    "MarketingRule.basis": E("marketing/_common.py", "marketing/_messages.py"),
    "MarketingRule.sources": E("marketing/_messages.py"),
    "MarketingRule.content_types": E("marketing/_messages.py"),
    "MarketingRule.channels": E("marketing/_messages.py"),
    "MarketingRule.opt_out_methods": D("names how people opt out (link, settings); the unsubscribe link and the "
                                       "privacy center are the methods the engine offers"),
    "MarketingRule.unsubscribe_in_every_message": D("every marketing message carries an unsubscribe link, "
                                                    "whatever this says"),
    "MarketingRule.service_messages_exempt": D("service messages do not go through marketing at all"),
    "MarketingRule.unsubscribe_stops_tracking": E("marketing/_trackers.py"),
    "MarketingRule.third_party_ads_in_app": E("marketing/_messages.py"),
    "MarketingRule.personalized_display": E("marketing/_messages.py"),
    "MarketingRule.targeted_ads": E("marketing/_messages.py"),
    "MarketingRule.recommendation_scope": E("marketing/_messages.py"),
    "MarketingRule.honor_gpc": E("marketing/_preferences.py"),
    "MarketingRule.rules": E("marketing/_common.py"),
    "CookieRule.uses_tracking": E("marketing/_trackers.py"),
    "CookieRule.technologies": E("marketing/_trackers.py"),
    "CookieRule.lifetimes": E("marketing/_trackers.py"),
    "CookieRule.placement": E("marketing/_trackers.py"),
    "CookieRule.purposes": E("marketing/_messages.py", "marketing/_trackers.py"),
    "CookieRule.third_party_allowed": E("marketing/_trackers.py"),
    "CookieRule.user_controls": D("names the browser and app controls people use; those are outside the engine"),
    "CookieRule.refusal_effect": E("marketing/_trackers.py"),
    "CookieRule.rules": E("marketing/_common.py"),
    "SecurityControl.id": E("organisation/__init__.py"),
    "SecurityControl.kind": E("engine/_decide.py", "incidents/__init__.py", "organisation/__init__.py"),
    "SecurityControl.scope": D(_TEXT + " (what a measure covers)"),
    "SecurityControl.details": D(_TEXT + " (the measure's details as the policy lists them)"),
    "SecurityControl.recurrence": E("organisation/__init__.py"),
}
"""``Model.field`` -> its marking. Every field of every pack model has exactly one entry."""

def marking_of(model: type, field: str) -> Marking | None:
    """The marking of ``field`` on ``model``, looked up under the class that declares it."""
    for cls in model.__mro__:
        found = ENFORCEMENT.get(f"{cls.__name__}.{field}")
        if found is not None:
            return found
    return None
