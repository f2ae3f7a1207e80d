"""Where data lives and how it crosses borders: encryption in transit to the database, and the cross-border security
assessments on record."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .. import audit
from .._exceptions import BadValueError, ConfigError
from ..clock import utc
from ..store import facts as fact_store

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from ..pack import Pack
    from ._engine import PolicyEngine


def check_transport(pack: Pack, db: Engine) -> None:
    """Where the pack promises encryption in transit, a PostgreSQL server reached over the network needs TLS."""
    measures = () if isinstance(pack.security, str) else pack.security
    promised = [m for m in measures if m.kind == "encryption_in_transit"]
    url = db.url
    if not promised or url.get_backend_name() != "postgresql":
        return
    host = str(url.query.get("host") or url.host or "")
    local = not host or host.startswith("/") or host in ("localhost", "127.0.0.1", "::1")
    if not local and url.query.get("sslmode") not in ("require", "verify-ca", "verify-full"):
        raise ConfigError(f"the pack promises encryption in transit ({', '.join(p for m in promised for p in m.promises)}):"
                          f" connect to {host} with sslmode=require, verify-ca or verify-full")


def assessed(eng: PolicyEngine, conn: Connection, now: dt.datetime) -> frozenset[str]:
    """Destinations with an adequate security assessment on record and in force at ``now``."""
    if eng.compiled.transfers is None or "security_assessment" not in eng.compiled.transfers.preconditions:
        return frozenset()
    at = utc(now)
    return frozenset(r.destination for r in fact_store.adequate_assessments(conn, eng.pack.id)
                     if utc(r.assessed_at) <= at and (r.valid_until is None or utc(r.valid_until) > at))


def record_transfer_assessment(eng: PolicyEngine, destination: str, *, reference: str, outcome: str,
                               valid_until: dt.datetime | None, actor: str, now: dt.datetime | None) -> int:
    now = eng.clock.at(now)
    if outcome not in ("adequate", "inadequate"):
        raise BadValueError(f"assessment outcome must be adequate or inadequate, not {outcome!r}")
    if not destination or len(destination) > 64:
        raise BadValueError("destination must be a region code or a recipient id (1 to 64 characters)")
    if not reference.strip() or len(reference) > 200:
        raise BadValueError("reference must name the assessment document (1 to 200 characters)")
    if valid_until is not None and utc(valid_until) <= utc(now):
        raise BadValueError("valid_until must be later than the assessment")
    promises = eng.compiled.transfers.promises if eng.compiled.transfers else ()
    with eng.db.begin() as conn:
        aid = fact_store.insert_assessment(conn, pack_id=eng.pack.id, destination=destination, outcome=outcome,
                                           reference=reference, assessed_at=now, valid_until=valid_until,
                                           recorded_by=actor)
        audit.record(conn, kind="transfer_assessment", actor=actor, subject_id=None, at=now,
                     pack_version=eng.compiled.version, promises=promises,
                     detail={"destination": destination, "outcome": outcome, "assessment": aid})
    return aid
