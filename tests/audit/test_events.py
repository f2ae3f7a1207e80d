"""Typed audit events: every kind the code writes is registered, an entry that fits no shape is refused and
nothing is written, the reference page is the registry's, and old entries still verify."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

import policykeeper
from policykeeper import audit
from policykeeper._exceptions import AuditEventError
from policykeeper.audit import _events, _registry
from policykeeper.crypto import KeyRing
from policykeeper.engine import PolicyEngine
from policykeeper.pack import load_pack
from policykeeper.store import audit_log, consent_events, open_database
from policykeeper.store._chain import append

SRC = Path(policykeeper.__file__).parent
DOCS = SRC.parents[1] / "docs" / "audit-events.md"
AT = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _count(db: object) -> int:
    with db.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def _written_kinds() -> dict[str, list[str]]:
    """Every literal ``kind=`` the source passes to ``audit.record``, with where."""
    found: dict[str, list[str]] = {}
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit"):
                for kw in node.keywords:
                    if kw.arg == "kind":
                        assert isinstance(kw.value, ast.Constant), f"{path}:{node.lineno}: a kind must be a literal"
                        found.setdefault(str(kw.value.value), []).append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def test_every_kind_the_code_writes_is_registered() -> None:
    written = _written_kinds()
    assert len(written) >= 20
    assert sorted(set(written) - set(_registry.EVENTS)) == []


def test_the_reference_page_is_generated_from_the_registry() -> None:
    assert DOCS.read_text(encoding="utf-8") == audit.markdown(), (
        "docs/audit-events.md is out of date: regenerate it (see its second paragraph)")
    for kind in _registry.EVENTS:
        assert f"## `{kind}`" in DOCS.read_text(encoding="utf-8")


def test_every_model_says_what_it_records_and_forbids_unknown_keys() -> None:
    for kind, models in _registry.EVENTS.items():
        for model in models:
            assert model.KIND == kind
            assert len((model.__doc__ or "").split()) >= 5, f"{model.__name__} needs a docstring"
            assert model.model_config.get("extra") == "forbid"


def test_an_unknown_kind_is_refused_and_nothing_is_written(db_url: str) -> None:
    db = open_database(db_url)
    with pytest.raises(AuditEventError, match="'sneaky'.*no such kind"), db.begin() as conn:
        audit.record(conn, kind="sneaky", actor="app", detail={})
    assert _count(db) == 0


@pytest.mark.parametrize(("detail", "says"), [
    ({"target": "marketing"}, "action: Field required"),
    ({"target": "marketing", "action": "given", "email": "alice@example.com"}, "email: Extra inputs"),
    ({"target": ["marketing"], "action": "given"}, "target: Input should be a valid string"),
])
def test_a_detail_that_does_not_fit_its_kind_is_refused_naming_the_key(db_url: str, detail: dict[str, object],
                                                                       says: str) -> None:
    db = open_database(db_url)
    with db.begin() as conn:
        audit.record(conn, kind="consent", actor="app", detail={"target": "marketing", "action": "given"})
    with pytest.raises(AuditEventError, match=says), db.begin() as conn:
        audit.record(conn, kind="consent", actor="app", detail=detail)
    assert _count(db) == 1


def test_a_kind_with_several_shapes_takes_each_and_refuses_a_mix(db_url: str) -> None:
    db = open_database(db_url)
    with db.begin() as conn:
        audit.record(conn, kind="incident", actor="so", detail={"incident": 1, "event": "step", "step": "contain"})
        audit.record(conn, kind="incident", actor="so", detail={"incident": 1, "event": "closed"})
        with pytest.raises(AuditEventError, match="'incident'"):
            audit.record(conn, kind="incident", actor="so", detail={"incident": 1, "event": "closed", "step": "x"})
    assert _count(db) == 2


def test_a_typed_event_is_stored_as_its_detail_and_read_back_typed(db_url: str) -> None:
    db = open_database(db_url)
    event = _events.LegalHoldEvent(event="placed", reference="case 7", categories=["email"], records=2)
    with db.begin() as conn:
        seq = audit.record_event(conn, event, actor="privacy_officer", subject_id="s1", at=AT)
    with db.connect() as conn:
        stored = conn.execute(select(audit_log.c.kind, audit_log.c.detail).where(audit_log.c.seq == seq)).one()
        [(row, typed)] = audit.entries(conn, kind="legal_hold")
        assert audit.verify(conn).ok
    assert stored.kind == "legal_hold"
    assert stored.detail == {"event": "placed", "reference": "case 7", "categories": ["email"], "records": 2}
    assert typed == event and row.subject_id == "s1" and row.actor == "privacy_officer"


def test_an_entry_written_before_its_kind_had_this_shape_still_verifies_and_reads(db_url: str) -> None:
    db = open_database(db_url)
    with db.begin() as conn:  # as an earlier version wrote it, straight onto the chain
        append(conn, audit_log, "audit", {"at": AT, "kind": "decision", "actor": "app", "subject_id": None,
                                          "decision_id": None, "allowed": True, "promises": [], "pack_version": None,
                                          "detail": {"n": 1}})
        audit.record(conn, kind="export", actor="app", detail={"values": 3}, at=AT)
    with db.connect() as conn:
        assert audit.verify(conn).ok
        got = audit.entries(conn)
    assert [(r.kind, e) for r, e in got] == [("decision", None), ("export", _events.ExportEvent(values=3))]


def test_a_refused_entry_rolls_back_the_change_it_was_recording(db_url: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the engine: if the consent entry could not be written, the consent is not on the ledger either."""
    eng = PolicyEngine(load_pack("kokkok"), open_database(db_url), KeyRing.init(tmp_path / "keys"))
    eng.set_consent("alice", "policy", "given", now=AT)
    with eng.db.connect() as conn:
        before = conn.execute(select(func.count()).select_from(consent_events)).scalar_one()
    entries = _count(eng.db)
    monkeypatch.setitem(_registry.EVENTS, "consent", (_events.ExportEvent,))  # a consent detail no longer fits
    monkeypatch.setattr(_registry, "_ADAPTERS", {})
    monkeypatch.setattr(_registry, "_CHECKERS", {})
    with pytest.raises(AuditEventError, match="'consent'"):
        eng.set_consent("alice", "policy", "withdrawn", now=AT)
    with eng.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(consent_events)).scalar_one() == before
    assert _count(eng.db) == entries


_CASES: list[tuple[str, dict[str, object]]] = [
    ("decision", {"action": "use", "codes": ["ok"], "rules": ["purposes.account"], "purpose": "account"}),
    ("decision", {"action": "use", "codes": ["ok"], "attested": {"by": "app", "conditions": [], "grounds": []}}),
    ("decision", {"action": "use", "codes": ["ok"], "attested": {"by": "app", "conditions": []}}),
    ("decision", {"action": "use", "codes": "ok"}),
    ("erasure", {"reason": "r", "cause": "erasure", "rule": None, "records": 1, "keys_destroyed": 1, "erased": True,
                 "kept": [{"category": "email", "records": 1, "reason": "hold", "reference": None, "promises": []}],
                 "backups_covered": True}),
    ("erasure", {"reason": "r", "cause": "erasure", "rule": None, "records": 1, "keys_destroyed": 1, "erased": True,
                 "kept": [{"category": "email", "records": 1, "reason": "hold", "reference": None, "promises": [],
                           "value": "alice@example.com"}], "backups_covered": True}),
    ("legal_hold", {"event": "placed", "reference": "x", "categories": "all", "records": 1}),
    ("legal_hold", {"event": "placed", "reference": "x", "categories": "some", "records": 1}),
    ("legal_hold", {"event": "lifted", "reference": "x", "categories": ["email"], "records": 1}),
    ("request", {"event": "refused", "request": "R-1", "right": "access", "ground": None}),
    ("request", {"event": "refused", "request": "R-1", "right": "access", "ground": None, "days": 3}),
    ("outbox", {"event": "sent", "message": 1, "recipient": "r", "message_id": "pk-1"}),
    ("outbox", {"event": "lost", "message": 1, "recipient": "r"}),

]
_FITS = [True, True, False, False, True, False, True, False, False, True, False, True, False]


@pytest.mark.parametrize(("kind", "detail", "fits"), [(*c, f) for c, f in zip(_CASES, _FITS, strict=True)])
def test_the_quick_check_at_append_agrees_with_the_model(kind: str, detail: dict[str, object], fits: bool) -> None:
    def outcome(check: object) -> str:
        try:
            check(kind, detail)  # type: ignore[operator]
        except AuditEventError:
            return "refused"
        return "fits"

    assert outcome(_registry.check_detail) == outcome(_registry.parse_detail) == ("fits" if fits else "refused")
