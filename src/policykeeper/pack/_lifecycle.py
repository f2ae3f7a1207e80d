"""What happens to data over time and when things change."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._types import Duration, Key, Rule, Unspecified

__all__ = [
    "BackupRule",
    "BreachRule",
    "ChangeRule",
    "CookieRule",
    "ErasureRule",
    "MarketingRule",
    "RetentionRule",
    "SecurityControl",
    "ServiceCessationRule",
    "SignificantTrigger",
]

EndAction = Literal[
    "delete",
    "anonymize",
    "delete_or_anonymize",
    "destroy",
    "restrict_access",
    "erase_destroy_anonymize_or_restrict",
    "keep_as_record",
]


class RetentionRule(Rule):
    """How long a set of categories is kept, and what happens at the end."""

    id: Key
    categories: tuple[Key, ...] | Literal["all"]
    purposes: tuple[Key, ...] | Literal["any"] = "any"
    duration: Duration
    start: Literal[
        "collection",
        "purpose_end",
        "account_cancelled",
        "service_ceased",
        "user_clear_action",
        "last_use",
        "transaction",
    ]
    end_action: EndAction | Unspecified
    within: Duration = Field(default="unspecified", description="How soon after the end the action runs.")
    legal_hold_override: bool = Field(default=False, description="A longer legal requirement wins.")
    legal_extension: bool = Field(default=False, description="Law may require or permit a longer period.")
    exempt_from_purpose_end: bool = False
    record_type: str | None = None
    continued_uses: tuple[Key, ...] = Field(
        default=(), description="Purposes that may continue after the end where the law allows."
    )
    user_control: str | None = Field(default=None, description="The control that ends retention (e.g. 'clear history').")


class ErasureRule(Rule):
    """When a person may have data deleted, and where the deletion must travel."""

    grounds: tuple[str, ...] | Unspecified
    grounds_closed: bool | Unspecified = "unspecified"
    propagate: Literal["none", "upstream_sources", "downstream_recipients", "unspecified"] = "unspecified"
    propagation_exceptions: tuple[Literal["legal_requirement", "independent_authorization"], ...] = ()
    end_action: EndAction | Unspecified = "delete"
    legal_hold_override: bool = False
    self_service_controls: tuple[str, ...] = ()
    triggers: tuple[Rule, ...] = Field(
        default=(), description="Further erasure statements with their promises (cancellation, shutdown...)."
    )


class BackupRule(Rule):
    """How erasure reaches backups."""

    backup_is_declared_purpose: bool = False
    immediate_purge: bool | Unspecified = "unspecified"
    max_lag: Duration = "unspecified"
    interim: Literal["none", "isolate_and_secure", "unspecified"] = "unspecified"
    end: Literal["purge", "anonymize", "purge_or_anonymize", "unspecified"] = "unspecified"
    erasure_covers_backups: bool = True


SignificantTrigger = Literal[
    "purposes",
    "data_types",
    "use_methods",
    "ownership_or_structure",
    "recipients",
    "rights",
    "security_contact_or_complaints",
    "high_risk_assessment",
    "transfers",
    "retention",
]


class ChangeRule(Rule):
    """How the policy may change and how people learn of it."""

    date_stamp: Literal["updated", "updated_and_effective", "none"]
    publication_page: bool = True
    published_url: str | None = None
    advance_notice: Duration | Literal["none"]
    notice_channels: tuple[str, ...] = Field(default=(), description="Channels for every change.")
    significant_triggers: tuple[SignificantTrigger, ...] | Unspecified = "unspecified"
    significant_triggers_closed: bool = False
    significant_channels: tuple[str, ...] = Field(default=(), description="Extra channels for significant changes.")
    no_rights_reduction_without_explicit_consent: bool | Unspecified = "unspecified"
    acceptance: Literal["continued_use_after_posting", "continued_use_after_effective", "explicit", "unspecified"]
    show_effective_date: bool = False
    rules: tuple[Rule, ...] = Field(default=(), description="Further change statements with their promises.")


class ServiceCessationRule(Rule):
    """What happens when the product or service shuts down."""

    notify_channels: tuple[str, ...] = Field(min_length=1)
    end_action: Literal["delete", "anonymize", "delete_or_anonymize"]
    within: Duration
    legal_hold_override: bool = True


class BreachRule(Rule):
    """What happens after a security incident."""

    notify_subjects: bool | Unspecified
    timing: Duration = "unspecified"
    content_fields: tuple[
        Literal["basic_situation", "possible_impact", "measures_taken_or_planned", "subject_prevention_advice", "remedies"],
        ...,
    ] = ()
    channels: tuple[str, ...] = ()
    fallback_when_individual_notice_impractical: Literal["public_announcement", "none", "unspecified"] = "unspecified"
    regulator_report: bool | Unspecified = "unspecified"
    incident_record_fields: tuple[str, ...] = Field(default=(), description="What every incident record holds.")
    liability_accepted: bool | Unspecified = "unspecified"
    rules: tuple[Rule, ...] = ()


class MarketingRule(Rule):
    """Who may get marketing, through which channels, and how they stop it."""

    basis: Literal["opt_in", "opt_out", "unspecified"]
    sources: tuple[Literal["own", "partners", "sponsors", "advertisers"], ...] = ("own",)
    content_types: tuple[str, ...] = ()
    channels: tuple[str, ...] | Unspecified = "unspecified"
    opt_out_methods: tuple[str, ...] = ()
    unsubscribe_in_every_message: bool | Unspecified = "unspecified"
    service_messages_exempt: bool | Unspecified = "unspecified"
    unsubscribe_stops_tracking: bool = False
    third_party_ads_in_app: bool | Unspecified = "unspecified"
    personalized_display: bool | Unspecified = "unspecified"
    targeted_ads: bool | Unspecified = "unspecified"
    recommendation_scope: str | None = None
    honor_gpc: bool | Unspecified = "unspecified"
    rules: tuple[Rule, ...] = ()


TrackingTechnology = Literal[
    "cookie",
    "web_beacon",
    "pixel_tag",
    "tag",
    "script",
    "html5_lso",
    "advertising_id",
    "identifier",
    "local_storage",
]


class CookieRule(Rule):
    """Cookies and similar tracking technologies."""

    uses_tracking: bool
    technologies: tuple[TrackingTechnology, ...] = ()
    lifetimes: tuple[Literal["session", "persistent"], ...] = ()
    placement: tuple[Literal["browser", "device", "email", "web_page", "app"], ...] = ()
    purposes: tuple[Key, ...] = Field(default=(), description="Closed list of purposes cookies may serve.")
    third_party_allowed: bool | Unspecified = "unspecified"
    user_controls: tuple[str, ...] = ()
    refusal_effect: str | None = Field(default=None, description="What degrades when the person refuses.")
    rules: tuple[Rule, ...] = ()


class SecurityControl(Rule):
    """A security measure the policy promises."""

    id: Key
    kind: Literal[
        "industry_standard_measures",
        "encryption_in_transit",
        "https",
        "encryption_at_rest",
        "access_control_need_to_know",
        "confidentiality_obligation",
        "dedicated_privacy_department",
        "staff_training",
        "provider_screening",
        "audit_logging",
        "incident_records",
        "password_complexity",
        "anti_attack",
        "loss_and_misuse_prevention",
        "storage_media_controls",
        "equal_protection_non_members",
        "user_advisory",
        "liability",
    ]
    scope: str = ""
    details: tuple[str, ...] = ()
    recurrence: Duration = Field(
        default="unspecified",
        description="How often a recurring measure (staff training) must happen; 'unspecified' where the policy "
        "gives no rhythm, and the operator states it (HOME/organisation.yaml).",
    )
