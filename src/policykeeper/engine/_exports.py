"""Exports and corrections: everything held about a person (with where each value came from and went), and a
corrected value replacing a category's values."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .. import audit
from .._exceptions import BadValueError, SubjectNotFoundError
from ..clock import utc
from ..crypto import decrypt, encrypt
from ..crypto._groups import group_key, record_cipher_key
from ..store import values as value_store
from ._common import check_actor
from ._subjects import find, find_by_id
from ._values import check_detail

if TYPE_CHECKING:
    from ._engine import PolicyEngine


def export(eng: PolicyEngine, external_id: str, *, actor: str, now: dt.datetime | None) -> list[dict[str, object]]:
    with eng.db.connect() as conn:
        found = find(eng, conn, external_id)
    return [] if found is None else export_subject(eng, found[0], actor=actor, now=now)


def export_subject(eng: PolicyEngine, subject_id: str, *, actor: str, now: dt.datetime | None
                   ) -> list[dict[str, object]]:
    now = eng.clock.at(now)
    check_actor(actor)
    cats = {c.id: c for c in eng.pack.data_categories}
    contexts = {c.id: c.name for c in eng.pack.collection.contexts}
    with eng.db.begin() as conn:
        found = find_by_id(eng, conn, subject_id)
        if found is None:
            return []
        sid, key, _ = found
        sent: dict[str, list[dict[str, str]]] = {}
        for d in value_store.disclosures_of(conn, sid):
            for c in d.categories:
                sent.setdefault(c, []).append({"recipient": d.recipient, "purpose": d.purpose,
                                               "at": utc(d.at).isoformat()})
        out: list[dict[str, object]] = []
        groups: dict[str, bytes | None] = {}
        for r in value_store.active(conn, sid):
            cat = cats.get(r.category)
            rkey = record_cipher_key(conn, key, r.key_id, groups)
            if rkey is None:
                continue
            out.append({
                "category": r.category, "category_name": cat.name if cat else r.category,
                "value": decrypt(rkey, r.value, f"{sid}|{r.category}|{r.id}").decode(),
                "purposes": list(r.purposes), "source": contexts.get(r.context, r.context), "channel": r.channel,
                "obtained_from": r.source,
                "collected_at": utc(r.collected_at).isoformat(), "pack_version": r.pack_version,
                "recipients": sent.get(r.category, []),
            })
        audit.record(conn, kind="export", actor=actor, subject_id=sid, at=now, pack_version=eng.compiled.version,
                     detail={"values": len(out)})
    return out


def correct_subject(eng: PolicyEngine, subject_id: str, category: str, value: str, *, actor: str,
                    now: dt.datetime | None) -> int:
    now = eng.clock.at(now)
    if category not in eng.compiled.categories:
        raise BadValueError(f"{category!r} is not a data category of this pack")
    if not isinstance(value, str) or not value:
        raise BadValueError("the corrected value must be non-empty text")
    value = check_detail(eng.compiled.categories[category], value, today=now.date())
    with eng.db.begin() as conn:
        found = find_by_id(eng, conn, subject_id)
        if found is None:
            raise SubjectNotFoundError("no data is held about that person")
        key = found[1]
        old = value_store.active(conn, subject_id, [category])
        if not old:
            raise BadValueError(f"no {category!r} is held to correct")
        last = old[-1]
        value_store.supersede(conn, [r.id for r in old])
        kid, gkey = group_key(conn, subject_id, key, category, now)
        rid = value_store.insert(conn, subject_id=subject_id, pack_id=eng.pack.id, pack_version=eng.compiled.version,
                                  context=last.context, category=category, purposes=last.purposes,
                                  channel=last.channel, source=None, collected_at=now, key_id=kid)
        value_store.set_value(conn, rid, encrypt(gkey, value.encode(), f"{subject_id}|{category}|{rid}"))
        audit.record(conn, kind="correction", actor=actor, subject_id=subject_id, at=now,
                     pack_version=eng.compiled.version, detail={"category": category, "replaced": len(old)})
    return len(old)
