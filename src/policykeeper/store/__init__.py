"""Storage: the tables, the database connection and its migrations."""

from ._backup import backup_database, restore_database
from ._db import default_url, open_database, upgrade
from ._schema import (
    audit_log,
    chain_heads,
    consent_events,
    deletion_queue,
    disclosures,
    incidents,
    metadata,
    outbox,
    records,
    request_codes,
    requests,
    subjects,
    transfer_assessments,
)

__all__ = [
    "audit_log",
    "backup_database",
    "chain_heads",
    "consent_events",
    "default_url",
    "deletion_queue",
    "disclosures",
    "incidents",
    "metadata",
    "open_database",
    "outbox",
    "records",
    "request_codes",
    "requests",
    "restore_database",
    "subjects",
    "transfer_assessments",
    "upgrade",
]
