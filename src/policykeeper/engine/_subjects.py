"""People: finding them by the app's identifier or pseudonymous id, creating them, decrypting what is held about them,
their contact address, and restricting their processing."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .. import audit
from .._exceptions import SubjectNotFoundError
from ..crypto import decrypt, new_data_key, unwrap_data_key, wrap_data_key
from ..crypto._groups import held_cipher_key
from ..store import people as people_store
from ..store import values as value_store
from ._common import NotCollectedFor

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ..store.facts import GatheredRow
    from ._engine import PolicyEngine


def _unwrap(eng: PolicyEngine, row: people_store.SubjectRow | None) -> tuple[str, bytes, str] | None:
    """(pseudonymous id, data key, status) of a subject row whose key still exists."""
    if row is None or row.wrapped_key is None or row.kek_id is None or eng.keys.is_shredded(row.id):
        return None
    return row.id, unwrap_data_key(eng.keys.get(row.kek_id), row.wrapped_key, row.id), row.status


def find_full(eng: PolicyEngine, conn: Connection, external_id: str) -> tuple[str, bytes, str] | None:
    """(pseudonymous id, data key, status) of a person whose key still exists."""
    return _unwrap(eng, people_store.by_lookup(conn, eng.keys.lookup_hash(external_id)))


def find(eng: PolicyEngine, conn: Connection, external_id: str) -> tuple[str, bytes] | None:
    """(pseudonymous id, data key) of a person whose key still exists."""
    found = find_full(eng, conn, external_id)
    return None if found is None else (found[0], found[1])


def find_by_id(eng: PolicyEngine, conn: Connection, subject_id: str) -> tuple[str, bytes, str] | None:
    """(pseudonymous id, data key, status) of a pseudonymous subject whose key still exists."""
    return _unwrap(eng, people_store.by_id(conn, subject_id))


def find_or_create(eng: PolicyEngine, conn: Connection, external_id: str, now: dt.datetime) -> tuple[str, bytes]:
    """The person, created (with a fresh data key) on first sight; an erased person's identifier is refused."""
    found = find(eng, conn, external_id)
    if found is not None:
        return found
    lookup = eng.keys.lookup_hash(external_id)
    if people_store.by_lookup(conn, lookup) is not None:
        raise SubjectNotFoundError("that person's data was erased; a new subject needs a new identifier")
    sid, key = secrets.token_hex(16), new_data_key()
    master = eng.keys.current
    if people_store.insert(conn, id=sid, lookup=lookup, pack_id=eng.pack.id, kek_id=master.id,
                            wrapped_key=wrap_data_key(master, key, sid), created_at=now):
        return sid, key
    found = find(eng, conn, external_id)  # a concurrent first write for this person committed first: theirs
    if found is None:
        raise SubjectNotFoundError("that person's data was erased; a new subject needs a new identifier")
    return found


def values(eng: PolicyEngine, conn: Connection, found: tuple[str, bytes], cats: frozenset[str],
           purpose: str | None = None, *, held: Sequence[GatheredRow[Any]] | None = None) -> dict[str, list[str]]:
    """Decrypt the person's active values of ``cats``. With a purpose that names its own categories, only values
    collected for that purpose come back (purpose binding); cross-cutting purposes (any declared category, such
    as legal or security purposes) see every value the decision allowed. ``held``: the value rows already read
    with the decision's facts (see :func:`._decisions.guard`)."""
    sid, key = found
    entry = eng.compiled.purposes.get(purpose) if purpose else None
    bound = entry is not None and not isinstance(entry[1].categories, str)
    rows: Iterable[tuple[Any, ...]] = (
        ((r.id, r.category, r.value, r.purposes, r.key_id, r.group_key)
         for r in value_store.values_of(conn, sid, cats)) if held is None
        else ((x.n, x.a, x.value, json.loads(x.c or "[]"), x.b, x.group_key) for x in held))
    out: dict[str, list[str]] = {c: [] for c in sorted(cats)}
    withheld = 0
    groups: dict[str, bytes | None] = {}
    for rid, category, value, purposes, key_id, wrapped in rows:
        if bound and purpose not in purposes:
            withheld += 1
            continue
        rkey = held_cipher_key(key, key_id, wrapped, groups)
        if rkey is not None:
            out[category].append(decrypt(rkey, value, f"{sid}|{category}|{rid}").decode())
    if withheld and not any(out.values()):
        raise NotCollectedFor(purpose or "", withheld)
    return out


def values_of_subject(eng: PolicyEngine, conn: Connection, subject_id: str, cats: set[str] | frozenset[str]
                      ) -> dict[str, list[str]]:
    found = find_by_id(eng, conn, subject_id)
    if found is None or not cats:
        return {}
    return values(eng, conn, (found[0], found[1]), frozenset(cats))


def email_categories(eng: PolicyEngine) -> frozenset[str]:
    return frozenset(c.id for c in eng.pack.data_categories if c.fides_key.startswith("user.contact.email"))


def email_of_subject(eng: PolicyEngine, conn: Connection, subject_id: str) -> str | None:
    held = values_of_subject(eng, conn, subject_id, email_categories(eng))
    found = [v for vs in held.values() for v in vs if v.strip()]
    return found[-1].strip() if found else None


def holds_contact(eng: PolicyEngine, external_id: str, address: str) -> bool:
    from ..connectors._identity import normalise  # the email rule the company databases are matched by

    wanted = normalise("email", address)
    emails = [c.id for c in eng.pack.data_categories if c.fides_key.startswith("user.contact.email")]
    if not wanted or not emails:
        return False
    with eng.db.connect() as conn:
        found = find(eng, conn, external_id)
        if found is None:
            return False
        held = values(eng, conn, found, frozenset(emails))
    return any(normalise("email", v) == wanted for vs in held.values() for v in vs)


def restrict_subject(eng: PolicyEngine, subject_id: str, restricted: bool, *, actor: str,
                     now: dt.datetime | None) -> None:
    now = eng.clock.at(now)
    with eng.db.begin() as conn:
        status = people_store.status_of(conn, subject_id)
        if status not in ("active", "restricted"):
            raise SubjectNotFoundError("no data is held about that person")
        people_store.set_status(conn, subject_id, "restricted" if restricted else "active")
        audit.record(conn, kind="restriction", actor=actor, subject_id=subject_id, at=now,
                     pack_version=eng.compiled.version, detail={"restricted": restricted})
