"""The root of a policy pack."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from ._data import (
    AcceptanceRule,
    CollectionRules,
    ConsentRule,
    DataCategory,
    LawfulGroundsRule,
    Purpose,
    PurposeCatalog,
    TaxonomyExtension,
)
from ._lifecycle import (
    BackupRule,
    BreachRule,
    ChangeRule,
    CookieRule,
    ErasureRule,
    MarketingRule,
    RetentionRule,
    SecurityControl,
    ServiceCessationRule,
)
from ._rights import AgeRule, AutomatedDecisionRule, Contacts, RequestHandling, Right, UserAdvisory
from ._sharing import (
    CorporateTransactionRule,
    DisclosureRule,
    Recipient,
    RecipientList,
    StorageRule,
    TransferRule,
)
from ._types import Key, PromiseId, Quote, Rule, Strict, Unspecified

__all__ = [
    "Controller",
    "Pack",
    "PolicyVersion",
    "Promise",
    "PromiseTag",
    "SourceIssue",
    "TaxonomyExtensions",
]

PromiseTag = Literal[
    "collection",
    "consent",
    "purpose",
    "sharing",
    "retention",
    "erasure",
    "backup",
    "rights",
    "verification",
    "deadline",
    "fee",
    "refusal",
    "minors",
    "transfer",
    "security",
    "breach",
    "change",
    "marketing",
    "cookies",
    "automated-decision",
    "contact",
    "other",
]


class Promise(Strict):
    """One testable promise of the policy, copied from the promise catalogue."""

    id: PromiseId
    tag: PromiseTag
    quote: Quote = Field(description="Short verbatim quote from the policy.")
    statement: str = Field(min_length=1, description="The behaviour the engine must show.")


class Controller(Rule):
    """Who is responsible for the data."""

    legal_name: str
    aliases: tuple[str, ...] = ()
    includes_affiliates: bool = False
    jurisdiction: str | Unspecified = "unspecified"
    address: str | None = None
    products: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    app_ids: tuple[str, ...] = ()


class PolicyVersion(Rule):
    """Which version of the policy this pack encodes."""

    label: str = Field(description="A version label, e.g. the update date.")
    updated_date: dt.date | Unspecified
    effective_date: dt.date | Unspecified
    published_url: str | None = None
    date_heading: str | None = Field(default=None, description="The exact heading, e.g. 'Updated at'.")


class SourceIssue(Strict):
    """A gap, truncation or contradiction in the policy text itself."""

    kind: Literal["missing_section", "missing_annex", "garbled", "internal_conflict", "missing_contact", "truncated", "ambiguous"]
    description: str
    promises: tuple[PromiseId, ...] = ()


class TaxonomyExtensions(Strict):
    """Keys that extend the Fides default taxonomy."""

    data_categories: tuple[TaxonomyExtension, ...] = ()
    data_uses: tuple[TaxonomyExtension, ...] = ()


class Pack(Strict):
    """A machine-readable privacy policy: every promise, and the rules that keep it."""

    pack_format: Literal[1] = Field(description="Version of the pack format.")
    id: Key = Field(description="Short id of the pack, e.g. 'kokkok'.")
    name: str
    source_file: str = Field(description="The policy text this pack encodes.")
    promise_prefix: str = Field(pattern=r"^[A-Z][A-Z0-9]*$", description="Prefix of this policy's promise IDs.")
    version: PolicyVersion
    controller: Controller
    prevailing_language: Rule | Unspecified = Field(
        description="Which language version governs; a rule whose quote names it, or unspecified."
    )
    language: str = Field(default="en", description="Language code of the governing text.")
    principles: tuple[str, ...] | Unspecified = "unspecified"
    principles_rule: Rule | None = None
    definitions: dict[str, str] = Field(default_factory=dict)
    glossary: dict[str, str] = Field(
        default_factory=dict, description="Technical terms and their explanations, linked in the rendered policy."
    )
    presentation: tuple[Rule, ...] = Field(default=(), description="Statements about how the policy is presented.")
    acceptance: AcceptanceRule
    contacts: Contacts
    taxonomy: TaxonomyExtensions = Field(default_factory=TaxonomyExtensions)
    data_categories: tuple[DataCategory, ...] = Field(min_length=1)
    purposes: PurposeCatalog
    collection: CollectionRules
    consents: tuple[ConsentRule, ...] = ()
    processing_without_consent: LawfulGroundsRule | Unspecified = "unspecified"
    recipients: tuple[Recipient, ...] = ()
    recipient_list: RecipientList | Unspecified = "unspecified"
    disclosures: tuple[DisclosureRule, ...] = ()
    corporate_transactions: CorporateTransactionRule | Unspecified = "unspecified"
    storage: StorageRule | Unspecified
    transfers: TransferRule | Unspecified
    retention: tuple[RetentionRule, ...] | Unspecified
    erasure: ErasureRule | Unspecified
    backups: BackupRule | Unspecified
    rights: tuple[Right, ...] | Unspecified
    requests: RequestHandling | Unspecified
    minors: AgeRule | Unspecified
    security: tuple[SecurityControl, ...] | Unspecified
    breach: BreachRule | Unspecified
    changes: ChangeRule
    service_cessation: ServiceCessationRule | Unspecified = "unspecified"
    marketing: MarketingRule | Unspecified
    cookies: CookieRule | Unspecified
    automated_decisions: AutomatedDecisionRule | Unspecified
    advisories: tuple[UserAdvisory, ...] = ()
    scope_exclusions: tuple[Rule, ...] = Field(default=(), description="Things the policy says are outside its scope.")
    source_issues: tuple[SourceIssue, ...] = ()
    promises: tuple[Promise, ...] = Field(min_length=1, description="Every promise of the policy.")

    # -- lookups --------------------------------------------------------
    def promise(self, promise_id: str) -> Promise:
        for p in self.promises:
            if p.id == promise_id:
                return p
        raise KeyError(promise_id)

    def category(self, category_id: str) -> DataCategory:
        for c in self.data_categories:
            if c.id == category_id:
                return c
        raise KeyError(category_id)

    def locked_categories(self) -> dict[str, tuple[str, ...]]:
        """Categories a right locks after registration (``locked_fields``), each with the promises that lock it."""
        found: dict[str, tuple[str, ...]] = {}
        for right in () if isinstance(self.rights, str) else self.rights:
            for cat in right.locked_fields:
                found[str(cat)] = tuple(right.promises)
        return found

    def purpose(self, purpose_id: str) -> Purpose:
        for p in self.purposes.items:
            if p.id == purpose_id:
                return p
        raise KeyError(purpose_id)
