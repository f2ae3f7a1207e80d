"""The engine: gather facts, ask the decision point, record the answer, then act or raise.

Every personal value is encrypted under its subject's data key before it reaches
the database; every decision is written to the audit log in the same transaction
as the action it allowed; erasure destroys the subject's data key.

:class:`PolicyEngine` is a facade: each public method hands over to the service module of its concept
(``_actions`` collect/read/aggregate/share, ``_subjects``, ``_consent``, ``_minors``, ``_transfers``, ``_register``,
``_exports`` exports and corrections, ``_erasure``; ``_decisions`` decides and audits). What stays here is the engine's
state and THE fact-gathering path, :meth:`PolicyEngine._facts_of`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Engine

from .. import consent
from .._exceptions import ConfigError
from ..clock import Clock
from ..clock import system as system_clock
from ..crypto import KeyRing, decrypt
from ..crypto._groups import held_cipher_key
from ..pack import Pack
from ..store.facts import FactStatements
from ..store.facts import GatheredRow as Row
from . import _actions, _consent, _decisions, _erasure, _exports, _facts, _minors, _register, _subjects, _transfers
from ._common import NO_FACTS as _NO_FACTS
from ._common import Collected, Released
from ._decide import CompiledPack, compile_pack, decide
from ._types import Decision, Facts, Share, Use

__all__ = ["Collected", "PolicyEngine", "Released"]


class PolicyEngine:
    """Enforces one pack over one database and keystore."""

    def __init__(self, pack: Pack, db: Engine, keys: KeyRing, *, region: str | None = None,
                 clock: Clock | None = None) -> None:
        """``region`` is where this deployment stores data; it must be one of the pack's home regions. ``clock`` is
        where every service of this engine reads the time (the system clock unless one is given)."""
        self.pack = pack
        self.clock: Clock = clock or system_clock
        self.compiled: CompiledPack = compile_pack(pack)
        self.db = db
        self.keys = keys
        home = self.compiled.home_regions
        if region is not None and home is not None and region not in home:
            promises = "" if isinstance(pack.storage, str) else f" ({', '.join(pack.storage.promises)})"
            raise ConfigError(f"this deployment stores data in {region!r}, but the pack promises storage in "
                              f"{', '.join(sorted(home))}{promises}")
        self.region = region
        self._earlier: dict[str, Mapping[str, frozenset[str]]] = {}
        """Each consent rule's targets per earlier published version, read once (``_consent.in_scope``)."""
        self._explicit_only: bool | None = None
        """Whether the current version binds only on explicit acceptance, read once (``_consent.accept_by_use``)."""
        self._consent_rule_targets = {c.id: frozenset(c.targets) for c in pack.consents}
        """Each consent rule's targets in the pack in force."""
        minors = self.compiled.minors
        self._birth_categories = frozenset(
            c.id for c in pack.data_categories if c.fides_key.startswith("user.demographic.date_of_birth")
        ) | frozenset(minors.age_source if minors is not None else ())
        """Categories that give a person's age: any date of birth (Fides category), and the pack's age sources."""
        self._account_contexts = frozenset(c.id for c in pack.collection.contexts if c.creates_account)
        """Collection contexts the pack marks ``creates_account``: data held from one means an account (none marked:
        nobody has an account, the safe reading)."""
        self._consults = _decisions.consulted(pack, self.compiled, self._birth_categories)
        """Held facts the pack's rules can ever consult (see :func:`_decisions.consulted`); only these are gathered."""
        self._fact_statements = FactStatements(self._account_contexts, self._birth_categories)
        """The one fact statement per (kinds..., by lookup), built once."""
        _transfers.check_transport(pack, db)

    @property
    def consulted_facts(self) -> frozenset[str]:
        """Which held facts the pack's rules can ever consult (``account``, ``hold``, ``register``, ``age_collect``,
        ``age_use``): a decision reads only those."""
        return self._consults

    # -- subjects ------------------------------------------------------------------------------------------------------
    def subject_id_of(self, conn: Connection, external_id: str) -> str | None:
        """The pseudonymous id of the person the app knows as ``external_id``, or None if no data is held about them
        (never seen, or erased)."""
        found = _subjects.find(self, conn, external_id)
        return None if found is None else found[0]

    # -- actions -------------------------------------------------------------------------------------------------------
    def collect(
        self,
        external_id: str,
        context: str,
        values: Mapping[str, str],
        facts: Facts = _NO_FACTS,
        *,
        actor: str = "app",
        now: dt.datetime | None = None,
    ) -> Collected:
        """Collect values (category id -> text) in a collection context, if the pack allows it.

        ``facts`` carries context only (channel, source, region, a stated age, attested conditions and grounds); a
        privileged fact raises :class:`PrivilegedFactError`. Where the pack sets an age threshold, a date of birth among
        ``values`` gives the age (a stated age can only make the decision stricter)."""
        return _actions.collect(self, external_id, context, values, facts, actor=actor, now=now)

    def read(
        self,
        external_id: str,
        purpose: str,
        categories: frozenset[str] | set[str],
        facts: Facts = _NO_FACTS,
        *,
        actor: str = "app",
        now: dt.datetime | None = None,
    ) -> Released:
        """Return the person's values of ``categories`` for ``purpose``, if the pack allows it (with the decision and
        its obligations). ``facts`` carries context only; a privileged fact raises :class:`PrivilegedFactError`."""
        return _actions.read(self, external_id, purpose, categories, facts, actor=actor, now=now)

    def aggregate(
        self,
        purpose: str,
        category: str,
        *,
        min_group: int = 5,
        actor: str = "app",
        now: dt.datetime | None = None,
    ) -> dict[str, int]:
        """How many people hold each value of ``category``, for a purpose that may use group-level data only.

        Each person counts only if the pack lets the purpose use their data (their consents included); values held
        by fewer than ``min_group`` people are folded into ``"(other)"`` so no one is singled out.
        """
        return _actions.aggregate(self, purpose, category, min_group=min_group, actor=actor, now=now)

    def share(
        self,
        external_id: str,
        recipient: str,
        categories: frozenset[str] | set[str],
        purpose: str,
        facts: Facts = _NO_FACTS,
        *,
        de_identify: bool = False,
        kind: str = "share",
        actor: str = "app",
        now: dt.datetime | None = None,
    ) -> Released:
        """Release values to a recipient, if the pack allows it; the disclosure log records who got what (no values).

        ``kind`` names the disclosure rule for a recipient the pack does not declare: ``share`` (default),
        ``transfer_to_controller`` (another controller, e.g. a successor) or ``public_disclosure``.

        With ``de_identify`` (or when the pack requires de-identified data for the recipient) every value is replaced
        by a keyed pseudonym that is stable per recipient and cannot be reversed without the keystore.
        """
        return _actions.share(self, external_id, recipient, categories, purpose, facts, de_identify=de_identify,
                              kind=kind, actor=actor, now=now)

    # -- minors discovered later ---------------------------------------------------------------------------------------
    def note_age(
        self,
        external_id: str,
        *,
        age: int | None = None,
        date_of_birth: str | None = None,
        now: dt.datetime | None = None,
    ) -> bool:
        """Tell the engine a person's age learnt after collection; True if their data is now queued for deletion.

        A minor whose data was taken without a parent's or guardian's consent on record has it queued for deletion
        where the pack promises that (``minors.on_unconsented_discovery: delete``); until the queue runs, the data is
        neither used nor shared.
        """
        return _minors.note_age(self, external_id, age=age, date_of_birth=date_of_birth, now=now)

    def pending_deletions(self) -> list[dict[str, object]]:
        """The deletion queue's pending entries (pseudonymous subject ids only)."""
        return _minors.pending_deletions(self)

    def run_deletion_queue(self, *, actor: str = "worker", now: dt.datetime | None = None) -> int:
        """Erase every subject whose queued deletion is due, through the deletion service (legal holds honoured);
        safe to re-run after a crash. Returns how many. An entry the pack's erasure rule cannot complete (a legal
        hold it makes no exception for) stays pending, and the refusal is audited."""
        return _minors.run_deletion_queue(self, actor=actor, now=now)

    # -- the facts a decision is made on -------------------------------------------------------------------------------
    def facts_for(self, conn: Connection, subject_id: str, action: Use | Share | None = None, *,
                  now: dt.datetime | None = None) -> Facts:
        """The facts the engine holds about a person known by pseudonymous id, through the one fact-gathering path
        (:meth:`_facts_of`): what requests, retention, marketing and deletion decide on (an account, a restriction,
        the deletion queue, consents and withdrawals, a declined policy, a legal hold, register facts, the age). Never
        the caller's word. An erased (or unknown) person has only the facts that are not about anyone."""
        return _decisions.facts_for(self, conn, subject_id, action, now)

    def decide_for_subject(self, conn: Connection, subject_id: str, action: Use | Share, *,
                           now: dt.datetime | None = None) -> Decision:
        """Decide an action on a pseudonymous subject's data with the facts the engine holds (for modules that act
        on a person by subject id, such as marketing). Not audited here: the caller records what it did."""
        return decide(self.compiled, self.facts_for(conn, subject_id, action, now=now), action)

    def _kinds(self, action: Use | Share | None) -> tuple[str, ...]:
        """What a decision on ``action`` reads about a person (``_decisions.kinds``)."""
        return _decisions.kinds(self, action)

    def _gather(self, conn: Connection, kinds: tuple[str, ...], *, sid: str) -> dict[str, list[Row[Any]]]:
        """The one fact statement's rows for a person by pseudonymous id (``store.facts.FactStatements``)."""
        return self._fact_statements.gather(conn, kinds, pack_id=self.pack.id, sid=sid)

    def _in_scope(self, conn: Connection, given: Mapping[str, str]) -> tuple[frozenset[str], frozenset[str]]:
        """(consents, uncovered targets): ``_consent.in_scope``."""
        return _consent.in_scope(self, conn, given)

    def _assessed(self, conn: Connection, now: dt.datetime) -> frozenset[str]:
        """Destinations with an adequate security assessment in force at ``now``: ``_transfers.assessed``."""
        return _transfers.assessed(self, conn, now)

    def _facts_of(
        self, conn: Connection, subject: tuple[str, bytes, str] | None, stated: Facts, action: Use | Share | None,
        now: dt.datetime, *, values: Mapping[str, str] | None = None, de_identified: bool = False,
        gathered: Mapping[str, list[Row[Any]]] | None = None,
    ) -> Facts:
        """THE fact-gathering path: the caller's context (already checked to hold nothing privileged) plus every
        privileged fact from the engine's own records: the consent ledger (consents, withdrawals, parental consent,
        the policy), the subjects table (account, restriction, deletion queue), the fact register (subscriptions,
        product authorisations, agreements, bound successors, recipients' confirmed consent, informed transfers),
        the transfer assessments, and the age from a date of birth collected now or held.

        Only what the pack's rules can consult is read (see :func:`_consulted`), in one statement (``_gather``);
        ``gathered`` is that statement's rows when they were read together with the person (``_subject_facts``)."""
        conditions = set(stated.conditions)
        if de_identified:  # only the engine's own de-identification counts as one
            conditions.add("de_identified")
        assessed = self._assessed(conn, now) if (stated.region is not None or isinstance(action, Share)) else frozenset()
        party = action.recipient if isinstance(action, Share) else None
        m = self.compiled.minors
        births = self._birth_categories
        age_now = _facts.youngest(values, births, now.date(), strict=True) if m is not None and values else None
        if assessed & {party, stated.region}:
            conditions.add("security_assessment_done")
        if subject is None:  # party-level register facts count only for the party a share goes to
            register = "register" in self._consults and isinstance(action, Share)
            held_facts = _facts.registered(conn, self.pack.id, None, now) if register else []
            c, agreements = _facts.conditions_from_register(held_facts, party)
            return replace(stated, conditions=frozenset(conditions | c), agreements=frozenset(agreements),
                           assessed=assessed, age=_facts.stricter_age(stated.age, age_now))
        sid, key, status = subject
        rows = gathered if gathered is not None else self._gather(conn, self._kinds(action), sid=sid)
        versioned, withdrawn = consent.fold_versioned(((x.a, x.b, x.at, x.c) for x in rows["consent"]), now)
        given, uncovered = self._in_scope(conn, versioned)
        conditions |= {"queued": {"queued_for_deletion"}, "restricted": {"restricted"}}.get(status, set())
        cancelled = _facts.cancelled_by((x.at for x in rows.get("cancelled", ())), now)
        if status in ("active", "restricted") and rows.get("account") and not cancelled:
            conditions.add("account_exists")
        if rows.get("hold"):
            conditions.add("legal_hold")
        held_facts = _facts.register_in_force(((x.e, x.a, x.b, x.c, x.d, x.at) for x in rows.get("register", ())), now)
        c, agreements = _facts.conditions_from_register(held_facts, party)
        held_age = None
        if "birth" in rows:
            held: dict[str, list[str]] = {}
            groups: dict[str, bytes | None] = {}
            for x in rows["birth"]:
                rkey = held_cipher_key(key, x.b, x.group_key, groups)
                if rkey is not None:
                    held.setdefault(x.a, []).append(decrypt(rkey, x.value, f"{sid}|{x.a}|{x.n}").decode())
            held_age = _facts.youngest(held, births, now.date(), strict=False)
        return replace(stated, consents=given, objections=withdrawn, uncovered=uncovered,
                       conditions=frozenset(conditions | c), agreements=frozenset(agreements), assessed=assessed,
                       policy_declined="policy" in withdrawn, age=_facts.stricter_age(stated.age, age_now, held_age))


    # -- where data goes -----------------------------------------------------------------------------------------------
    def record_transfer_assessment(
        self,
        destination: str,
        *,
        reference: str,
        outcome: str = "adequate",
        valid_until: dt.datetime | None = None,
        actor: str = "privacy_officer",
        now: dt.datetime | None = None,
    ) -> int:
        """Record a cross-border security assessment for a region or a recipient; returns its id.

        A transfer rule that requires ``security_assessment`` lets data go to (or be read from) a place outside the
        home regions only while an adequate assessment for that place or recipient is on record.
        """
        return _transfers.record_transfer_assessment(self, destination, reference=reference, outcome=outcome,
                                                     valid_until=valid_until, actor=actor, now=now)

    # -- the fact register ---------------------------------------------------------------------------------------------
    def record_fact(
        self,
        fact: str,
        *,
        person: str | None = None,
        party: str | None = None,
        arg: str = "",
        reference: str,
        revoke: bool = False,
        actor: str = "privacy_officer",
        now: dt.datetime | None = None,
    ) -> int:
        """Record (or, with ``revoke``, withdraw) a fact that unlocks a protection and that the engine cannot see in
        its other records, with the document or system record behind it; returns the register entry's id.

        About a person (``person`` is the app's identifier of someone the engine holds): ``subscribed`` (``arg`` the
        service, e.g. ``dashboard_app``), ``product_authorized`` (``arg`` the product, optional), ``member``,
        ``transfer_informed``, ``consent_by_recipient`` (``party`` the recipient that obtained the person's consent).
        About a party: ``successor_bound`` (``party`` the successor, bound to protect the data) and ``agreement``
        (``party`` the recipient, ``arg`` the agreement on file, e.g. ``confidentiality``). Audited."""
        return _register.record_fact(self, fact, person=person, party=party, arg=arg, reference=reference,
                                     revoke=revoke, actor=actor, now=now)

    # -- consent -------------------------------------------------------------------------------------------------------
    def refusal_notice(self, target: str) -> str | None:
        """What the person must be told before a refusal or withdrawal of ``target`` is confirmed, if anything."""
        return _consent.refusal_notice(self, target)

    def set_consent(
        self,
        external_id: str,
        target: str,
        action: consent.ConsentAction,
        *,
        actor: str = "subject",
        evidence: Mapping[str, str] | None = None,
        now: dt.datetime | None = None,
    ) -> int:
        """Record consent given, withdrawn or refused for one target; returns the ledger sequence number."""
        return _consent.set_consent(self, external_id, target, action, actor=actor, evidence=evidence, now=now)

    def record_subject_consent(self, subject_id: str, target: str, action: consent.ConsentAction, *,
                               actor: str = "subject", now: dt.datetime | None = None) -> int:
        """``set_consent`` for a pseudonymous subject id (requests keep no app identifier)."""
        return _consent.record_subject_consent(self, subject_id, target, action, actor=actor, now=now)

    def consents(self, external_id: str, at: dt.datetime | None = None) -> frozenset[str]:
        """What the person has consent on record for, now or as of ``at``."""
        return _consent.consents(self, external_id, at)

    def consent_receipt(self, external_id: str, at: dt.datetime | None = None) -> dict[str, object]:
        """A Kantara-style consent receipt for the person's consents at ``at`` (default now)."""
        return _consent.consent_receipt(self, external_id, at)

    # -- what is held about a person -----------------------------------------------------------------------------------
    def holds_contact(self, external_id: str, address: str) -> bool:
        """Is ``address`` one of the email addresses held for this person? (Proves a requester is that person
        once they also prove they control the address.)"""
        return _subjects.holds_contact(self, external_id, address)

    def values_of_subject(self, conn: Connection, subject_id: str, cats: set[str] | frozenset[str]
                          ) -> dict[str, list[str]]:
        """Decrypted active values of some categories of a pseudonymous subject, inside the caller's transaction
        (for erasure notices, which must say whom to erase)."""
        return _subjects.values_of_subject(self, conn, subject_id, cats)

    def email_categories(self) -> frozenset[str]:
        """The pack's categories that hold email addresses (Fides ``user.contact.email``)."""
        return _subjects.email_categories(self)

    def email_of_subject(self, conn: Connection, subject_id: str) -> str | None:
        """The latest email address held for a pseudonymous subject (to send them a notice), or None."""
        return _subjects.email_of_subject(self, conn, subject_id)

    def restrict_subject(self, subject_id: str, restricted: bool = True, *, actor: str = "app",
                         now: dt.datetime | None = None) -> None:
        """Restrict (or lift the restriction of) all processing of a person's data but for recorded legal grounds."""
        _subjects.restrict_subject(self, subject_id, restricted, actor=actor, now=now)

    # -- exports and corrections ---------------------------------------------------------------------------------------
    def export(self, external_id: str, *, actor: str = "requests", now: dt.datetime | None = None) -> list[dict[str, object]]:
        """Everything held about a person, each value with its category, purposes, source and the recipients its
        category went to (from the disclosure log). Audited without values; [] for a person with no data."""
        return _exports.export(self, external_id, actor=actor, now=now)

    def export_subject(self, subject_id: str, *, actor: str = "requests", now: dt.datetime | None = None
                       ) -> list[dict[str, object]]:
        """``export`` for a pseudonymous subject id (what requests keep instead of the app's identifier)."""
        return _exports.export_subject(self, subject_id, actor=actor, now=now)

    def correct_subject(self, subject_id: str, category: str, value: str, *, actor: str = "app",
                        now: dt.datetime | None = None) -> int:
        """Replace a category's active values with one corrected value (the old ones are kept as superseded
        ciphertext, for the record); returns how many were replaced. Audited without values. The value is checked
        against its category's kind first (an email, a phone number, a past date of birth ...: ``_values``);
        one that does not fit raises :class:`BadDetailError` and changes nothing."""
        return _exports.correct_subject(self, subject_id, category, value, actor=actor, now=now)

    # -- erasure -------------------------------------------------------------------------------------------------------
    def erase_subject(self, subject_id: str, *, actor: str = "app", reason: str = "erasure request",
                      now: dt.datetime | None = None) -> None:
        """``erase`` for a pseudonymous subject id."""
        _erasure.erase_subject(self, subject_id, actor=actor, reason=reason, now=now)

    def erase(self, external_id: str, *, actor: str = "app", reason: str = "erasure request",
              now: dt.datetime | None = None) -> str:
        """Erase a person through the deletion service: crypto-shred them (destroy the data key, blank the records,
        journal it outside the database), or, where records under a legal hold must stay and the pack lets the law
        win, delete and crypto-shred everything else and restrict what is kept."""
        return _erasure.erase(self, external_id, actor=actor, reason=reason, now=now)
