"""What a person may ask for, how it is handled, and who they can talk to."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._data import LawfulGround
from ._types import Duration, Key, Rule, SourceStatus, Unspecified

__all__ = [
    "AgeRule",
    "AutomatedDecisionRule",
    "ComplaintRule",
    "ContactChannel",
    "Contacts",
    "DeadlineRule",
    "FeeRule",
    "RefusalRule",
    "RequestHandling",
    "Right",
    "RightType",
    "UserAdvisory",
    "VerificationRule",
]

RightType = Literal[
    "access",
    "copy",
    "correct",
    "delete",
    "restrict",
    "object",
    "withdraw_consent",
    "portability",
    "cancel_account",
    "clear_history",
    "automated_decision_explanation",
    "complain_internal",
    "complain_authority",
    "manage_account",
]

RequestKind = Literal[
    "rights_request",
    "general_question",
    "complaint",
]


class Right(Rule):
    """A right the person has, with its conditions and channels."""

    type: RightType
    conditions: str | None = Field(default=None, description="e.g. 'in some cases', as the policy says.")
    basis_limit: tuple[str, ...] = Field(
        default=(), description="Legal bases the right is limited to (portability: consent, contract)."
    )
    channels: tuple[str, ...] = Field(default=(), description="self_service, settings, authorization_page, email, postal...")
    constraints: tuple[str, ...] = Field(default=(), description="e.g. 'initial registration data locked'.")
    locked_fields: tuple[Key, ...] = Field(default=(), description="Categories that may not be edited.")
    format: Literal["machine_readable", "unspecified"] = "unspecified"
    status: SourceStatus = "stated"


class VerificationRule(Rule):
    """How a requester's identity is checked."""

    required: Literal["always", "may", "unspecified"]
    before_processing: bool | Unspecified = "unspecified"
    methods: tuple[Literal["written_request", "identity_proof", "supporting_documents", "login"], ...] = ()
    agent_authority_check: bool = False
    every_login: bool = False


class DeadlineRule(Rule):
    """How fast a request or message is answered."""

    id: Key
    applies_to: RequestKind
    duration: Duration
    clock_start: Literal["receipt", "verification"] | Unspecified = "receipt"
    tracked: bool = True


class FeeRule(Rule):
    """What a request costs."""

    default_fee: int | Unspecified = Field(description="0 means free by default.")
    default_qualifier: str | None = Field(default=None, description="'generally', 'in principle'...")
    repeat_threshold: int | Literal["reasonable_limit"] | Unspecified = "unspecified"
    charge: Literal["cost", "unspecified"] = "unspecified"
    mode: Literal["discretionary", "mandatory", "unspecified"] = "unspecified"


RefusalDiscretionary = Literal[
    "unreasonably_repetitive",
    "excessive_technical_means",
    "risk_to_others",
    "impractical_backup_tapes",
]


class RefusalRule(Rule):
    """Grounds on which a request may or must be refused."""

    discretionary: tuple[RefusalDiscretionary, ...] = ()
    mandatory: tuple[LawfulGround, ...] = ()
    reason_code_required: bool = True


class RequestHandling(Rule):
    """How rights requests are handled."""

    verification: VerificationRule | Unspecified
    deadlines: tuple[DeadlineRule, ...] | Unspecified
    fees: FeeRule | Unspecified
    refusal: RefusalRule | Unspecified
    outcome_includes_complaint_route: bool | Unspecified = "unspecified"
    rules: tuple[Rule, ...] = ()


class AgeRule(Rule):
    """What the pack does about children."""

    threshold: int = Field(ge=1, le=25, description="People under this age are minors.")
    term: Literal["minor", "child", "underage"]
    audience_note: str | None = None
    enforcement: Literal["advisory", "require_parental_consent", "block_registration"]
    age_source: tuple[Key, ...] = Field(default=(), description="Categories the age is read from (date of birth).")
    parental_consent_verifiable: bool | Unspecified = "unspecified"
    permitted_uses: tuple[str, ...] = ()
    on_unconsented_discovery: Literal["delete", "none", "unspecified"] = "unspecified"
    discovery_within: Duration = "unspecified"
    advisory_texts: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()


class AutomatedDecisionRule(Rule):
    """Explanation and remedy for solely automated decisions."""

    trigger: Literal["significant_effect_on_rights"]
    explanation_on_request: bool
    remedy: bool


class ContactChannel(Rule):
    """A way to reach the controller."""

    kind: Literal["email", "postal", "form", "phone"]
    value: str
    role: str | None = Field(default=None, description="e.g. 'Data Protection Officer'.")
    handles: tuple[Literal["questions", "rights_requests", "complaints", "account_cancellation", "corrections"], ...] = ()


class ComplaintRule(Rule):
    """Complaint routes inside and outside the company."""

    internal_channel: bool | Unspecified = "unspecified"
    response: Duration = "unspecified"
    external_authorities: tuple[str, ...] = ()


class Contacts(Rule):
    """How to reach the controller; 'missing' when the policy refers to contacts it never gives."""

    status: Literal["present", "missing"]
    channels: tuple[ContactChannel, ...] = ()
    complaints: ComplaintRule | Unspecified = "unspecified"
    shown_in: tuple[str, ...] = Field(default=(), description="Where the contact appears, e.g. top, contact_section.")


class UserAdvisory(Rule):
    """A warning or advice shown to the person at a given moment."""

    id: Key
    trigger: Literal[
        "publish_sensitive",
        "send_by_email_or_im",
        "minor_submits_data",
        "choose_password",
        "refuse_essential_data",
        "withdraw_consent",
        "disable_cookies",
        "external_link",
    ]
    text: str
