"""A version previewed before it is published (the admin console's preview step): the same change rules refuse it
as ``publish`` would, the diff, channels and notice are what publishing then does, and nothing is written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from policykeeper import BadValueError
from policykeeper.store._schema import audit_log, outbox, policy_versions
from policykeeper.versions import preview, publish

from .test_versions import KALOS_V2, KOKKOK_V2, NOW, _engine, _pack


def _rows(eng: object, table: object) -> int:
    with eng.db.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_kalos_44_the_preview_refuses_fewer_rights_without_explicit_consent_and_writes_nothing(
        db_url: str, tmp_path: Path) -> None:
    kalos = _engine("kalos", db_url, tmp_path)
    fewer = _pack("kalos", *KALOS_V2, ("  - {type: withdraw_consent, channels: [email], promises: [KALOS-27]}\n", ""))
    before = _rows(kalos, audit_log)
    with pytest.raises(BadValueError, match="reduces people's rights.*explicit consent.*KALOS-44"):
        preview(kalos, fewer, now=NOW - dt.timedelta(days=60))
    shown = preview(kalos, fewer, explicit_consent=True, now=NOW - dt.timedelta(days=60))
    assert shown.published.explicit_consent_required and "explicitly agree" in shown.notice
    assert shown.previous == "2024-03-18" and shown.against.version.label == "2024-03-18"
    assert (_rows(kalos, policy_versions), _rows(kalos, outbox), _rows(kalos, audit_log)) == (0, 0, before)
    got = publish(kalos, fewer, explicit_consent=True, now=NOW - dt.timedelta(days=60))
    assert got.changes == shown.published.changes and got.channels == shown.published.channels
    assert got.effective_at == shown.published.effective_at
    with pytest.raises(BadValueError, match="already published"):
        preview(kalos, fewer, explicit_consent=True, now=NOW - dt.timedelta(days=60))


def test_kokkok_64_the_preview_refuses_an_effective_date_sooner_than_7_business_days(
        db_url: str, tmp_path: Path) -> None:
    kokkok = _engine("kokkok", db_url, tmp_path)
    new = _pack("kokkok", *KOKKOK_V2)
    with pytest.raises(BadValueError, match="at least 7 business days after the notice"):
        preview(kokkok, new, now=NOW, effective_at=NOW + dt.timedelta(days=3))
    shown = preview(kokkok, new, now=NOW, effective_at=dt.datetime(2025, 6, 12, tzinfo=dt.UTC))
    assert shown.published.effective_at.date() == dt.date(2025, 6, 12) and _rows(kokkok, policy_versions) == 0


def test_a_misspelt_publishing_term_is_refused_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    kokkok = _engine("kokkok", db_url, tmp_path)
    new = _pack("kokkok", *KOKKOK_V2)
    before = _rows(kokkok, audit_log)
    late = dt.datetime(2025, 6, 12, tzinfo=dt.UTC)
    with pytest.raises(TypeError, match="'efective_at'"):
        preview(kokkok, new, efective_at=late, now=NOW)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'efective_at'"):
        publish(kokkok, new, efective_at=late, now=NOW)  # type: ignore[call-arg]
    assert (_rows(kokkok, policy_versions), _rows(kokkok, outbox), _rows(kokkok, audit_log)) == (0, 0, before)
    assert publish(kokkok, new, effective_at=late, now=NOW).effective_at == late
