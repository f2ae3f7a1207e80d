"""``policykeeper bench``: runs, prints one JSON object on its last line, saves it. Sizes only, never speed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policykeeper.cli import app

runner = CliRunner()


def test_bench_core_quick_prints_and_saves_its_figures(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "core", "--quick", "--results", str(tmp_path)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    (saved,) = tmp_path.glob("core-*-quick.json")
    assert json.loads(saved.read_text()) == figures
    assert figures["bench"] == "core" and figures["backend"] == "sqlite" and figures["machine"]["cpus"]
    d = figures["decisions"]
    assert d["parity_mismatches"] == 0 and 0 < d["allowed_share"] < 1  # casbin and decide agree, both ways
    assert figures["ledger"]["entries_verified"] == 20_000
    assert set(figures["goals"]) == {"decisions_vs_casbin", "decision_p99_us", "guarded_read_overhead",
                                     "verify_1m_seconds"}


def test_bench_core_quick_on_postgresql_uses_a_throwaway_schema(tmp_path: Path) -> None:
    url = os.environ.get("POLICYKEEPER_TEST_PG_URL")
    if not url:
        pytest.skip("no PostgreSQL server: set POLICYKEEPER_TEST_PG_URL (scripts/test starts one)")
    result = runner.invoke(app, ["bench", "core", "--quick", "--database-url", url, "--results", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["backend"] == "postgresql"
    from sqlalchemy import create_engine, text

    admin = create_engine(url)
    with admin.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'pk_bench_%'")).scalar_one()
    admin.dispose()
    assert left == 0


def test_unknown_benchmark_and_sqlite_url_are_clean_errors(tmp_path: Path) -> None:
    unknown = runner.invoke(app, ["bench", "nope", "--results", str(tmp_path)])
    assert unknown.exit_code == 1 and "unknown benchmark 'nope'" in unknown.stderr
    sqlite = runner.invoke(app, ["bench", "core", "--quick", "--database-url", "sqlite:///x.db"])
    assert sqlite.exit_code == 1 and "must be PostgreSQL" in sqlite.stderr
    assert not list(tmp_path.iterdir())


def test_bench_core_verifies_a_ledger_of_the_size_asked_and_refuses_it_elsewhere(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "core", "--quick", "--ledger-entries", "30000", "--results", str(tmp_path)])
    assert result.exit_code == 0, result.output
    ledger = json.loads(result.stdout.strip().splitlines()[-1])["ledger"]
    assert ledger["entries_verified"] == 30_000 and ledger["verify_1m_seconds"] > ledger["verify_seconds"]
    other = runner.invoke(app, ["bench", "retention", "--quick", "--ledger-entries", "30000", "--results", str(tmp_path)])
    assert other.exit_code == 1 and "bench core only" in other.stderr
    tiny = runner.invoke(app, ["bench", "core", "--ledger-entries", "5", "--results", str(tmp_path)])
    assert tiny.exit_code == 1 and "between 10,000 and 10,000,000" in tiny.stderr


def test_bench_requests_quick_compares_with_plain_sql(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "requests", "--quick", "--results", str(tmp_path)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "requests" and set(figures["sizes"]) == {"10", "100"}
    for size, row in figures["sizes"].items():
        assert row["rows_found"] == 2 * int(size) + 1  # the person, their orders, one event per order
        assert row["access_floor_s"] > 0 and row["erase_floor_s"] > 0
    goals = figures["goals"]
    worst = goals["within_2x_of_plain_sql"]
    for size, row in figures["sizes"].items():  # the goal for every size and operation: the figure, the goal, met
        for op in ("access", "erase"):
            goal = goals[f"{op}_{size}_orders_within_2x"]
            assert goal["operation"] == op and goal["orders"] == int(size) and goal["rows"] == row["rows_found"]
            assert goal["value"] == row[f"{op}_ratio"] and goal["goal"] == "<= 2.0x"
            assert goal["met"] == (goal["value"] <= 2.0) or abs(goal["value"] - 2.0) <= 0.005
            assert goal["value"] <= worst["value"]
    assert worst["value"] == max(row[f"{op}_ratio"] for row in figures["sizes"].values() for op in ("access", "erase"))
    assert worst["met"] == all(goals[f"{op}_{s}_orders_within_2x"]["met"] for s in figures["sizes"]
                               for op in ("access", "erase"))
    for key, goal in goals.items():  # the command prints each goal on a line of its own
        assert f"{key}: {goal['value']} (goal {goal['goal']}: " in result.stdout
    export = figures["access_export"]  # the request service's access export next to plain SQL and a zip by hand
    assert export["rows"] == 101 and export["plain_sql_and_zip_s"] > 0 and export["request_service_s"] > 0
    assert goals["access_export_within_2x"]["value"] == export["ratio"] and goals["access_export_within_2x"]["rows"] == 101


def _api_figures(tmp_path: Path) -> dict[str, object]:
    result = runner.invoke(app, ["bench", "api", "--quick", "--results", str(tmp_path)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    (saved,) = tmp_path.glob("api-*-quick.json")
    assert json.loads(saved.read_text()) == figures
    assert figures["bench"] == "api"
    assert set(figures["goals"]) == {"zero_errors", "chains_intact", "http_share_of_in_process"}
    for combo in figures["combos"]:  # served over loopback and called in process, the same operations and counts
        assert combo["http"]["requests"] == combo["in_process"]["requests"] == 2 * 3 * 5
        for side in ("http", "in_process"):
            assert combo[side]["errors"] == 0, combo[side]["first_error"]
            assert combo[side]["requests_per_s"] > 0 and 0 < combo[side]["p50_ms"] <= combo[side]["p99_ms"]
        chains = combo["chains"]
        assert chains["intact"] and chains["audit_entries"] > 0 and chains["ledger_entries"] > 0
    assert figures["goals"]["zero_errors"]["met"] and figures["goals"]["chains_intact"]["met"]
    return dict(figures)


def test_bench_api_quick_on_sqlite_says_postgresql_did_not_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    monkeypatch.delenv("POLICYKEEPER_TEST_PG_URL", raising=False)
    monkeypatch.delenv("POLICYKEEPER_BENCH_PG_URL", raising=False)
    figures = _api_figures(tmp_path)
    assert figures["ran"] == ["sqlitex1"] and "no server" in str(figures["skipped"])


def test_bench_api_quick_on_postgresql_runs_one_and_two_web_processes(tmp_path: Path) -> None:
    if not os.environ.get("POLICYKEEPER_TEST_PG_URL"):
        pytest.skip("no PostgreSQL server: set POLICYKEEPER_TEST_PG_URL (scripts/test starts one)")
    figures = _api_figures(tmp_path)
    assert figures["ran"] == ["sqlitex1", "postgresqlx1", "postgresqlx2"] and figures["skipped"] == []
    assert [(c["backend"], c["workers"]) for c in figures["combos"]] == [  # type: ignore[attr-defined]
        ("sqlite", 1), ("postgresql", 1), ("postgresql", 2)]
