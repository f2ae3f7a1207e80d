"""Who gets data, on which grounds, and where it may be stored or go."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._data import LawfulGround
from ._types import Condition, Key, Rule, SourceStatus, Unspecified

__all__ = [
    "CorporateTransactionRule",
    "DisclosureException",
    "DisclosureRule",
    "Recipient",
    "RecipientCategory",
    "RecipientList",
    "StorageRule",
    "TransferRule",
]

RecipientCategory = Literal[
    "service_provider",
    "processor_sdk",
    "authorized_partner",
    "affiliate",
    "advertiser_or_agent",
    "payment",
    "debt_collector",
    "credit_bureau",
    "background_aml",
    "cloud_storage",
    "analytics",
    "education_training",
    "insurance_finance",
    "identity_verification",
    "logistics",
    "sms_mail",
    "technical_infrastructure",
    "customer_service",
    "research",
    "consultant",
    "legal_advisor",
    "authority",
    "regulator",
    "complainant",
    "successor",
    "customer_of_provider",
    "public",
    "upstream_source",
    "third_party_cookie",
]

Agreement = Literal[
    "confidentiality",
    "data_protection_agreement",
    "commitment_letter",
    "processing_policy",
    "instructions_only",
]

Region = str
"""A storage or processing region: an ISO country code ('US', 'CN') or a named area ('east_asia')."""


class Recipient(Rule):
    """A declared recipient of personal data (named entity or category)."""

    id: Key
    name: str
    category: RecipientCategory
    named_entity: bool = Field(default=False, description="A specific company, not a category.")
    third_party: bool = Field(default=True, description="Outside the controller (affiliates count as inside when False).")
    privacy_url: str | None = None
    terms_url: str | None = None
    opt_out_url: str | None = None
    place_of_processing: Region | Unspecified = "unspecified"
    categories: tuple[Key, ...] | Literal["any_necessary"] | Unspecified = Field(
        description="Categories it may receive."
    )
    purposes: tuple[Key, ...] = Field(min_length=1, description="Purposes it may receive data for.")
    identity_data: Literal["allowed", "requires_consent", "forbidden"] = Field(
        default="allowed", description="May identifying categories go to it?"
    )
    data_form: Literal["identifiable", "de_identified"] = Field(
        default="identifiable", description="Form the data must take on its way there."
    )
    required_agreements: tuple[Agreement, ...] = Field(
        default=(), description="Agreements on file before any data flows."
    )
    agreements_any_of: bool = Field(
        default=False, description="One of required_agreements suffices (Konzen: agreement OR letter OR policy)."
    )
    consent: Literal["none", "explicit", "separate", "recipient_obtains_explicit"] = Field(
        default="none", description="Consent needed for a share to it."
    )
    may_repurpose: bool = False
    minimum_necessary: bool = False
    controller_no_control: bool = Field(default=False, description="Sets its own cookies; the controller cannot control it.")
    trigger: Condition | None = Field(default=None, description="Share only when these facts hold.")
    basis: Key | None = Field(
        default=None, description="Id of the disclosure exception this standing recipient relies on."
    )
    source_status: SourceStatus = "stated"


class RecipientList(Rule):
    """What the policy says about its list of recipients as a whole."""

    non_exhaustive: bool = Field(description="The list is 'a few' of them / 'include' / 'etc.'.")
    closed_categories: bool = Field(
        default=False, description="Partners outside the listed categories are refused."
    )
    source_status: SourceStatus = "stated"


class DisclosureException(Rule):
    """A case in which a disclosure the default forbids is allowed."""

    id: Key
    basis: Literal[
        "explicit_consent",
        "separate_consent",
        "consent",
        "recipient_obtained_consent",
        "lawful_ground",
        "standing_recipients",
    ]
    grounds: tuple[LawfulGround, ...] = Field(default=(), description="Accepted grounds when basis is lawful_ground.")
    recipient_categories: tuple[str, ...] = Field(default=(), description="Recipient categories it covers (empty: any).")
    conditions: Condition | None = None
    record_required: bool = True
    pre_notice_fields: tuple[str, ...] = Field(
        default=(), description="What the person is told before (e.g. purpose, data types, sensitive data)."
    )
    minimum_necessary: bool = False
    standard: str | None = Field(default=None, description="e.g. 'reasonably believes', 'good faith'.")


class DisclosureRule(Rule):
    """A default posture for one kind of disclosure, with its exceptions."""

    id: Key
    kind: Literal["share", "transfer_to_controller", "public_disclosure", "intra_group", "sdk"]
    default: Literal["deny", "allow"]
    exempt_recipient_categories: tuple[str, ...] = Field(
        default=(), description="Categories the default itself leaves out (KALOS: 'outside our service providers')."
    )
    exceptions: tuple[DisclosureException, ...] = Field(default=())


class CorporateTransactionRule(Rule):
    """What happens to data when the company merges, is sold or goes bankrupt."""

    events: tuple[str, ...] = Field(min_length=1)
    notify_subject: bool | Unspecified = "unspecified"
    successor_bound_by: Literal["this_policy", "pre_existing_agreed_policy", "no_less_protective"]
    otherwise: Literal["reconsent", "none", "unspecified"] = "unspecified"


class StorageRule(Rule):
    """Where data is kept."""

    home_regions: tuple[Region, ...] | Unspecified
    media: tuple[str, ...] = Field(default=(), description="e.g. app_local_cache, database, server_logs.")
    central_database: bool = False


class TransferRule(Rule):
    """Whether and how data may leave its home region."""

    cross_border: Literal["not_allowed", "allowed_with_preconditions", "unspecified"]
    currently_active: bool | Unspecified = "unspecified"
    preconditions: tuple[Literal["consent", "security_assessment", "de_identification", "inform"], ...] = ()
    precondition_logic: Literal["all", "any"] = "all"
    inform_fields: tuple[str, ...] = Field(default=(), description="What the person must be told first.")
    protection_standard: str | None = None
    remote_access_counts_as_transfer: bool = False
    destination: str | None = Field(default=None, description="Where transfers may go, in the policy's words.")
