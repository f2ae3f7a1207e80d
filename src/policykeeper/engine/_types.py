"""Values the decision point takes and returns: facts, actions, decisions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Collect", "Decision", "Facts", "Obligation", "Reason", "Share", "Use", "Action"]


@dataclass(frozen=True)
class Facts:
    """What a decision is made on: the person and the moment of an action.

    A caller fills in context only (``channel``, ``region``, ``source``, ``age``, ``grounds`` and attested
    ``conditions``); every other field, and every privileged condition, is filled in by the engine from its own
    records (see ``engine/_facts.py`` and docs/engine.md). The engine refuses a caller's ``Facts`` that holds a
    privileged fact with :class:`~policykeeper.PrivilegedFactError`."""

    age: int | None = None
    """Age in whole years, when known: the youngest of a stated age and any date of birth collected or held."""
    consents: frozenset[str] = frozenset()
    """Ids (consent rules, purposes, recipients, categories) with consent currently given (from the ledger)."""
    conditions: frozenset[str] = frozenset()
    """Facts that hold now: attested ones a caller may state ('feature_active:connect', 'provider_screened') and
    privileged ones only the engine adds ('account_exists', 'subscribed:dashboard_app', 'de_identified' ...)."""
    grounds: frozenset[str] = frozenset()
    """Lawful grounds the actor records for this action ('legal_requirement', ...): attested, and audited with the
    actor."""
    agreements: frozenset[str] = frozenset()
    """Agreements on file with the recipient of a share ('confidentiality', ...), from the fact register."""
    policy_declined: bool = False
    channel: str | None = None
    source: str | None = None
    """The entity the data is obtained from, when it is not the person (a partner, a data provider)."""
    region: str | None = None
    """Where the data goes or is accessed from, when that is not the recipient's declared place of processing."""
    assessed: frozenset[str] = frozenset()
    """Destinations (regions or recipient ids) with a completed cross-border security assessment on record."""
    objections: frozenset[str] = frozenset()
    """Targets the person opted out of or withdrew consent for (recipients with an opt-out, purposes)."""
    uncovered: frozenset[str] = frozenset()
    """Targets a consent rule gained in a later policy version than the one the person consented under: the rule's
    consent does not reach them (the engine fills this in)."""

    def holds(self, fact: str) -> bool:
        name, _, arg = fact.partition(":")
        if name == "consent":  # on the ledger, or confirmed by the recipient ('consent:acme:by_recipient')
            return arg in self.consents or fact in self.conditions
        if name == "parental_consent" and not arg:
            return "parental_consent" in self.conditions or "parental_consent" in self.consents
        if name == "ground_recorded" and arg:
            return arg in self.grounds
        return fact in self.conditions


@dataclass(frozen=True)
class Collect:
    """Take data from the person in one collection context."""

    context: str
    categories: frozenset[str]


@dataclass(frozen=True)
class Use:
    """Read or process categories of a person's data for one purpose."""

    purpose: str
    categories: frozenset[str]
    individual: bool = True
    """False for aggregate use (counts over a group), which is all an aggregate-only purpose may do."""


@dataclass(frozen=True)
class Share:
    """Give categories of a person's data to a recipient for a purpose."""

    recipient: str
    categories: frozenset[str]
    purpose: str
    kind: str = "share"
    """Which disclosure rule governs an undeclared recipient: share, transfer_to_controller, public_disclosure."""


Action = Collect | Use | Share


@dataclass(frozen=True)
class Reason:
    """Why a decision went the way it did: a code, words, the rule and the promises behind it."""

    code: str
    message: str
    rule: str
    promises: tuple[str, ...] = ()


@dataclass(frozen=True)
class Obligation:
    """Something an allowed decision obliges: done by the engine itself, or handed to the caller to do.

    ``kind`` is one of ``de_identify``, ``carry_agreed_policy_version``, ``notify_subject``, ``offer_opt_out``,
    ``protection_standard``, ``show_advisory``, ``show_minor_advisory``, ``warn_sensitive``, ``aggregate_only``,
    ``minimum_necessary``, ``record_ground`` (the engine writes the ground relied on into the audit entry) and
    ``limit_benefits`` (the caller limits the benefits tied to a refused field); ``value`` is its argument (an opt-out
    URL, a standard, an advisory id, a ground) and ``text`` the words to show, where there are any."""

    kind: str
    value: str = ""
    text: str = ""
    by: Literal["engine", "caller"] = "caller"
    """``engine``: the engine carries it out as part of the action; ``caller``: the caller must (and it is audited
    as handed over)."""
    for_person: bool = False
    """Meant for the person (an advisory, an opt-out link), not only for the operator."""
    promises: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind


@dataclass(frozen=True)
class Decision:
    """An explainable verdict: allowed or not, why, under which pack version, with what obligations."""

    allowed: bool
    action: str
    reasons: tuple[Reason, ...]
    pack_id: str
    pack_version: str
    obligations: tuple[Obligation, ...] = ()
    dropped: frozenset[str] = frozenset()
    decision_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def promises(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for r in self.reasons:
            for p in r.promises:
                seen.setdefault(p, None)
        return tuple(seen)

    def obliges(self, kind: str) -> Obligation | None:
        """The first obligation of that kind, if the decision carries one."""
        return next((o for o in self.obligations if o.kind == kind), None)

    @property
    def obligation_names(self) -> tuple[str, ...]:
        """Each obligation as ``kind`` or ``kind:value`` (what the audit log keeps)."""
        return tuple(str(o) for o in self.obligations)

    @property
    def denials(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if not r.code.startswith("ok"))
