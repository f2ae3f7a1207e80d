"""What is collected, why, and on which lawful basis."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._types import Condition, Key, Rule, SourceStatus, Strict, Unspecified

__all__ = [
    "AcceptanceRule",
    "CollectionChannel",
    "CollectionContext",
    "CollectionRules",
    "ConsentRule",
    "DataCategory",
    "FieldRequirement",
    "LawfulGround",
    "LawfulGroundsRule",
    "LegalBasis",
    "Purpose",
    "PurposeCatalog",
    "SensitiveKind",
    "TaxonomyExtension",
]

LegalBasis = Literal[
    "consent",
    "explicit_consent",
    "separate_consent",
    "parental_consent",
    "implied_by_use",
    "contract",
    "legal_obligation",
    "legitimate_operation_security",
    "legitimate_interest",
    "vital_interest_emergency",
    "public_interest",
    "unspecified",
]
"""The lawful basis a purpose rests on."""

LawfulGround = Literal[
    "national_security",
    "national_defense",
    "public_security",
    "public_health",
    "major_public_interest",
    "public_importance",
    "criminal_proceedings",
    "protect_vital_interests",
    "protect_rights_or_property",
    "protect_users_or_customers",
    "publicly_disclosed_by_subject",
    "lawfully_public_source",
    "contract_necessity",
    "contract_necessity_consent_impractical",
    "safe_operation",
    "news_reporting",
    "academic_research_deidentified",
    "legal_requirement",
    "legal_obligation",
    "government_requirement",
    "legal_regulatory_requirement",
    "litigation_dispute",
    "administrative_or_judicial_request",
    "enforce_policy",
    "enforce_terms",
    "good_faith_legal_requirement",
    "emergency_life_health_safety",
    "complaint_handling",
    "violation_disclosure",
    "corporate_transaction",
    "malice_or_abuse_of_rights",
    "serious_harm_to_rights",
    "trade_secret",
    "other_provided_by_law",
    "garbled_in_source",
]
"""A ground on which something may be done without (or despite) consent.

Reused for consent exceptions, disclosure exceptions and refusal grounds."""

SensitiveKind = Literal[
    "race",
    "religion",
    "ideology",
    "place_of_origin",
    "birthplace",
    "political_inclination",
    "criminal_records",
    "health",
    "gender_orientation",
    "biometric",
    "financial",
    "precise_location",
    "minor_data",
    "identity_document",
]

CategoryClass = Literal[
    "personal",
    "non_personal",
    "anonymous",
    "sensitive",
    "identity",
    "contact",
    "financial",
    "location_precise",
    "location_coarse",
    "device_id",
    "log",
    "usage",
    "content",
    "vehicle",
    "product",
    "credential",
    "derived",
    "cookie",
    "employment",
]

Origin = Literal[
    "user_provided",
    "auto_generated",
    "device_permission",
    "connected_product",
    "third_party_partner",
    "offline_branch",
    "public_source",
]

CollectionChannel = Literal[
    "online",
    "online_web",
    "one_to_one_inquiry",
    "email",
    "event_entry",
    "consultation",
    "third_party_provider",
    "data_generation_tool",
    "offline_branch",
    "app",
]


class TaxonomyExtension(Strict):
    """A data category or data use that extends the Fides taxonomy."""

    key: str = Field(description="The new dotted key, e.g. 'user.vehicle.onboard'.")
    parent_key: str = Field(
        description="A key of the Fides default taxonomy, or another extension, that this key extends."
    )
    name: str = Field(description="A human name.")
    description: str = Field(default="", description="What the key covers.")


class DataCategory(Rule):
    """A kind of data the policy names, mapped onto the Fides taxonomy."""

    id: Key = Field(description="Pack-local id, referred to by purposes, contexts and rules.")
    name: str = Field(description="Human name as the policy says it.")
    fides_key: str = Field(
        description="Fides data category (default taxonomy or a declared extension)."
    )
    fields: tuple[str, ...] = Field(
        default=(), description="The concrete fields the policy names for this category."
    )
    open_list: bool = Field(
        default=False,
        description="True when the policy's list of fields ends with 'etc.' or similar.",
    )
    classes: tuple[CategoryClass, ...] = Field(
        min_length=1, description="Classes of data this category belongs to."
    )
    personal: bool | Literal["maybe"] = Field(
        description="Personal data? 'maybe' when the policy says it 'might include' personal data."
    )
    identifying: bool = Field(
        default=False,
        description="Identifies the person directly (name, email, phone...): guarded towards partners.",
    )
    sensitive_kinds: tuple[SensitiveKind, ...] = Field(
        default=(), description="Sensitive kinds this category contains."
    )
    origin: Origin = Field(description="Where the data comes from.")
    stop_control: str | None = Field(
        default=None, description="How the person stops the collection, e.g. 'turn off positioning'."
    )
    source_status: SourceStatus = Field(default="stated")


class Purpose(Rule):
    """A purpose data may be used for, on a Fides data use."""

    id: Key
    name: str
    group: str | None = Field(default=None, description="Heading the policy groups it under (e.g. P1).")
    description: str = Field(default="")
    data_use: str = Field(description="Fides data use (default taxonomy or a declared extension).")
    legal_basis: LegalBasis = Field(description="The lawful basis this purpose rests on.")
    categories: tuple[Key, ...] | Literal["any_declared"] = Field(
        description="Data categories this purpose may use; 'any_declared' where the policy does not limit it."
    )
    aggregate_only: bool = Field(
        default=False, description="Output must not single out an individual (e.g. KOSO-14)."
    )
    requires_consent: Literal["none", "opt_in", "explicit", "separate", "implied_by_use"] = Field(
        default="none", description="Consent needed before this purpose may run."
    )
    default_enabled: bool = Field(default=True, description="On before the person chooses.")
    member_only: bool = Field(default=False)


class PurposeCatalog(Rule):
    """The policy's list of purposes."""

    closed: bool = Field(description="True when processing for any undeclared purpose is refused.")
    undeclared: Literal["reject", "require_prior_consent"] = Field(
        description="What happens to a purpose not in the list."
    )
    repurposing: Literal["reject", "require_prior_consent", "unspecified"] = Field(
        default="unspecified",
        description="Using data collected for one purpose for another declared one.",
    )
    items: tuple[Purpose, ...] = Field(min_length=1)


class FieldRequirement(Rule):
    """Whether a category is needed in one collection context (the same field may differ per context)."""

    category: Key
    requirement: Literal["essential", "optional", "feature_required", "opt_in", "auto_collected"]
    on_refusal: Literal["block_context", "block_feature_only", "no_effect", "limit_benefits", "not_applicable"]
    purposes: tuple[Key, ...] = Field(
        default=(), description="Purposes for this field here; empty means the context's purposes."
    )
    separate_authorization: bool = Field(
        default=False, description="Needs its own authorisation when a specific function runs."
    )
    consent_rule: Key | None = Field(
        default=None, description="Consent rule that must be granted before this field is collected."
    )


class CollectionContext(Rule):
    """A situation in which data is collected (registration, purchase, a feature...)."""

    id: Key
    name: str
    member_only: bool = Field(default=False)
    activation: Condition | None = Field(
        default=None, description="Facts that must hold for this context to collect anything."
    )
    purposes: tuple[Key, ...] = Field(min_length=1)
    fields: tuple[FieldRequirement, ...] = Field(min_length=1)
    refusal_notice: str | None = Field(
        default=None, description="Consequence shown when the person withholds essential data."
    )
    open_list: bool = Field(default=False, description="The policy's field list ends with 'etc.'.")
    creates_account: bool = Field(
        default=False,
        description="Collecting in this context opens an account (registration, account creation): a person holding "
        "data from it has an account (the engine's 'account_exists') until the account is cancelled. A pack that "
        "marks no context has no accounts: member-only contexts and purposes then need 'member' in the fact register.",
    )


class CollectionRules(Rule):
    """How collection is bounded: contexts, channels, minimisation, sensitive data."""

    contexts: tuple[CollectionContext, ...] = Field(min_length=1)
    undeclared_fields: Literal["reject", "drop"] = Field(
        description="What happens to a field no context declares (data minimisation)."
    )
    channels: tuple[CollectionChannel, ...] | Unspecified = Field(
        description="Channels every record is tagged with, or unspecified."
    )
    channel_required: bool = Field(default=False, description="Every record must carry a channel.")
    sensitive_requires: Literal["explicit_consent", "consent", "warn_on_publish", "unspecified"] = Field(
        default="unspecified", description="What sensitive data needs before it is taken."
    )
    sensitive_kinds: tuple[str, ...] = Field(default=())
    rules: tuple[Rule, ...] = Field(
        default=(),
        description="Further collection statements with their promises (e.g. account optional).",
    )


class ConsentRule(Rule):
    """A consent the pack requires or offers, and what withdrawing it does."""

    id: Key
    scope: Literal[
        "policy",
        "purpose",
        "field",
        "recipient",
        "transfer",
        "public_disclosure",
        "program",
        "os_permission",
        "marketing",
        "sensitive_data",
        "minor_account",
        "new_purpose",
        "third_party_provision",
        "identity_to_partners",
    ]
    targets: tuple[str, ...] = Field(
        default=(), description="Ids of purposes, categories, recipients... the consent covers."
    )
    type: Literal["implied_by_use", "opt_in", "explicit", "separate", "parental_verifiable", "os_permission"]
    default: Literal["granted", "not_granted"] = Field(default="not_granted")
    withdrawable: bool | Unspecified = Field(default=True)
    withdraw_channels: tuple[str, ...] = Field(default=())
    withdrawal_effect: Literal["stop_processing", "stop_except_legally_permitted", "unspecified"] = Field(
        default="stop_processing"
    )
    retroactive: bool = Field(default=False, description="Does withdrawal undo past processing (never, so far).")
    refusal_notice: str | None = Field(default=None, description="Consequence shown before refusal is confirmed.")
    basic_data_locked_while_used: bool = Field(
        default=False, description="Basic data of a function in use cannot be withdrawn."
    )


class AcceptanceRule(Rule):
    """How the person accepts the policy itself."""

    model: Literal["implied_by_use", "explicit_click"]
    recorded_on: Literal["first_use", "registration", "explicit_action"]
    decline_effect: Literal["no_processing", "limited_service", "unspecified"]
    shown_before_first_use: bool | Unspecified = "unspecified"


class LawfulGroundsRule(Rule):
    """Grounds on which data may be processed without consent; one must be recorded."""

    grounds: tuple[LawfulGround, ...] = Field(min_length=1)
    record_required: bool = True
