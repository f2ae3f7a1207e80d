"""Consent reads the engine makes beside the consent ledger's own module (``consent/``): the policy version a person
accepted, and what an earlier published version of the pack said (which consent rules covered what, whether it
needs explicit acceptance)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from ._schema import consent_events, policy_versions

__all__ = ["accepted_in_version", "last_accepted_version", "version_changes", "version_document"]


def last_accepted_version(conn: Connection, subject_id: str) -> str | None:
    """The pack version the person last accepted the policy under, if the ledger holds an acceptance."""
    row = conn.execute(select(consent_events.c.pack_version).where(
        consent_events.c.subject_id == subject_id, consent_events.c.target == "policy",
        consent_events.c.action == "accepted").order_by(consent_events.c.seq.desc())).first()
    return None if row is None else str(row[0])


def accepted_in_version(conn: Connection, subject_id: str, pack_version: str) -> bool:
    """Has the person accepted the policy under this pack version?"""
    return conn.execute(select(consent_events.c.seq).where(
        consent_events.c.subject_id == subject_id, consent_events.c.target == "policy",
        consent_events.c.action == "accepted", consent_events.c.pack_version == pack_version,
    )).first() is not None


def version_document(conn: Connection, pack_id: str, label: str) -> Any:
    """The pack document published as version ``label`` (None if not on record)."""
    return conn.execute(select(policy_versions.c.document).where(
        policy_versions.c.pack_id == pack_id, policy_versions.c.label == label)).scalar()


def version_changes(conn: Connection, pack_id: str, label: str) -> Any:
    """What publishing version ``label`` changed (its ``changes`` document; None if not on record)."""
    return conn.execute(select(policy_versions.c.changes).where(
        policy_versions.c.pack_id == pack_id, policy_versions.c.label == label)).scalar()
