"""The consent ledger: append-only, hash-chained events; current state is a fold over them.

Each event is consent given, withdrawn or refused for one target (a consent rule, purpose, recipient or the
policy itself), tied to the pack version the person saw. Withdrawal stops future processing only: the events
before it stay, so processing done while consent held remains provably valid.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from sqlalchemy import Connection

from ..pack import Pack
from ..store import ledger as ledger_store
from ..store.ledger import ChainReport

__all__ = ["CONSENT_CONTENT", "ConsentAction", "consents_as_of", "fold_versioned", "receipt", "record", "state_as_of",
           "verify", "versioned_state_as_of"]

ConsentAction = Literal["given", "withdrawn", "refused", "accepted"]
CONSENT_CONTENT = ledger_store.CONSENT_CONTENT
_HOLDS = frozenset({"given", "accepted"})


def record(
    conn: Connection,
    *,
    subject_id: str,
    pack: Pack,
    target: str,
    action: ConsentAction,
    at: dt.datetime,
    evidence: Mapping[str, Any] | None = None,
) -> int:
    """Append one consent event inside the caller's transaction; returns its sequence number."""
    return ledger_store.append_event(conn, {
        "subject_id": subject_id, "pack_id": pack.id, "pack_version": pack.version.label, "target": target,
        "action": action, "at": at, "evidence": dict(evidence or {}),
    })


def _naive(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(tzinfo=None) if at.tzinfo else at


_EVENTS_OF_SUBJECT = ledger_store._EVENTS_OF_SUBJECT
"""Kept for ``web/_site.py``, which still executes it (``store.ledger.events_of_subject`` is the public read)."""


def consents_as_of(conn: Connection, subject_id: str, at: dt.datetime | None = None) -> frozenset[str]:
    """Targets with consent holding at ``at`` (default: now): the last event per target decides."""
    return state_as_of(conn, subject_id, at)[0]


def state_as_of(
    conn: Connection, subject_id: str, at: dt.datetime | None = None
) -> tuple[frozenset[str], frozenset[str]]:
    """(targets with consent holding, targets withdrawn or refused) at ``at``: the last event per target decides."""
    given, withdrawn = versioned_state_as_of(conn, subject_id, at)
    return frozenset(given), withdrawn


def versioned_state_as_of(
    conn: Connection, subject_id: str, at: dt.datetime | None = None
) -> tuple[dict[str, str], frozenset[str]]:
    """Like :func:`state_as_of`, with the policy version each holding consent was given under."""
    return fold_versioned(((e.target, e.action, e.at, e.pack_version)
                           for e in ledger_store.events_of_subject(conn, subject_id)), at)


def fold_versioned(
    events: Iterable[tuple[str, str, dt.datetime, str]], at: dt.datetime | None = None
) -> tuple[dict[str, str], frozenset[str]]:
    """The fold behind :func:`versioned_state_as_of`, over one person's events (target, action, at, pack version) in
    ledger order: the last event per target at or before ``at`` decides."""
    last: dict[str, tuple[str, str]] = {}
    limit = _naive(at) if at is not None else None
    for target, action, when, version in events:
        if limit is not None and _naive(when) > limit:
            continue
        last[target] = (action, version)
    return ({t: v for t, (a, v) in last.items() if a in _HOLDS},
            frozenset(t for t, (a, _) in last.items() if a in ("withdrawn", "refused")))


def verify(conn: Connection) -> ChainReport:
    """Check the whole consent chain; the report names the first bad event."""
    return ledger_store.verify(conn)


def receipt(conn: Connection, pack: Pack, subject_id: str, at: dt.datetime) -> dict[str, Any]:
    """A consent receipt with the Kantara Initiative consent-receipt fields (v1.1), for the state at ``at``."""
    held = consents_as_of(conn, subject_id, at)
    purposes = {p.id: p for p in pack.purposes.items}
    email = next((c.value for c in pack.contacts.channels if c.kind == "email"), None)
    postal = next((c.value for c in pack.contacts.channels if c.kind == "postal"), pack.controller.address)
    services = []
    for target in sorted(held):
        p = purposes.get(target)
        services.append({
            "service": pack.name,
            "purposes": [{
                "purpose": p.name if p else target,
                "purposeCategory": [p.data_use] if p else [],
                "consentType": "EXPLICIT" if p is None or p.requires_consent in ("explicit", "separate") else "IMPLICIT",
                "piiCategory": sorted(p.categories) if p and not isinstance(p.categories, str) else [],
                "primaryPurpose": bool(p and p.legal_basis in ("contract",)),
                "termination": "until withdrawn",
                "thirdPartyDisclosure": False,
            }],
        })
    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": pack.controller.jurisdiction,
        "consentTimestamp": int(at.timestamp()),
        "collectionMethod": pack.acceptance.model,
        "consentReceiptID": uuid.uuid4().hex,
        "language": pack.language,
        "piiPrincipalId": subject_id,
        "piiControllers": [{"piiController": pack.controller.legal_name, "contact": email, "address": postal,
                            "email": email}],
        "policyUrl": pack.version.published_url,
        "policyVersion": pack.version.label,
        "services": services,
        "sensitive": any(c.sensitive_kinds for c in pack.data_categories),
        "spiCat": sorted({k for c in pack.data_categories for k in c.sensitive_kinds}),
    }
