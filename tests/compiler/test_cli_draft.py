"""`pack draft`, `pack review` and `bench draft` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from policykeeper.cli import app

from ..conftest import DATA, REPO

runner = CliRunner()
POLICY = DATA / "compiler" / "brightleaf.md"


def test_pack_draft_writes_a_pack_that_passes_pack_check(tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    result = runner.invoke(app, ["pack", "draft", str(POLICY), "-o", str(out), "--id", "brightleaf"])
    assert result.exit_code == 0, result.output
    assert "the draft passes pack check" in result.stderr
    check = runner.invoke(app, ["pack", "check", str(out)])
    assert check.exit_code == 0, check.output
    assert "pack: brightleaf" in check.stdout


def test_pack_draft_reads_standard_input_and_writes_standard_output() -> None:
    result = runner.invoke(app, ["pack", "draft", "-"], input=(DATA / "compiler" / "tiny_no_retention.txt").read_text())
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# DRAFT pack")
    assert "retention: unspecified" in result.stdout
    assert "# review: retention = unspecified" in result.stdout


def test_pack_draft_refuses_a_missing_file_and_a_bad_id(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["pack", "draft", str(tmp_path / "nope.txt")])
    assert missing.exit_code != 0 and "no such policy file" in missing.output
    bad = runner.invoke(app, ["pack", "draft", str(POLICY), "--id", "Bad Id"])
    assert bad.exit_code == 2 and "--id" in bad.output


def test_pack_review_prints_items_with_quotes_and_confidence_and_writes_html(tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    assert runner.invoke(app, ["pack", "draft", str(POLICY), "-o", str(out)]).exit_code == 0
    page = tmp_path / "review.html"
    result = runner.invoke(app, ["pack", "review", str(out), str(POLICY), "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert "minors.threshold" in result.stdout and "quotes not found in the policy: 0" in result.stdout
    assert "Our shop is not intended for children" in page.read_text()


def test_bench_draft_quick_prints_one_json_object_and_saves_it(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "draft", "--quick", "--results", str(tmp_path)],
                           env={"POLICYKEEPER_SEEDS": str(REPO / "bench" / "seeds")})
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    (saved,) = tmp_path.glob("draft-*-quick.json")
    assert json.loads(saved.read_text()) == figures
    assert list(figures["packs"]) == ["konzen"]
    assert set(figures["goals"]) == {"scalar_precision", "invented_values", "promise_recall", "promise_precision",
                                     "seconds_per_policy"}
    konzen = figures["packs"]["konzen"]
    assert konzen["promises"]["quotes_located"] == konzen["promises"]["catalogued"] == 39
    assert 0 < figures["scalar_precision"] <= 1 and 0 < figures["promise_recall"] <= 1


def test_an_html_policy_drafts_with_its_headings_and_list_items(tmp_path: Path) -> None:
    page = DATA / "compiler" / "brightleaf.html"
    out = tmp_path / "draft.yaml"
    result = runner.invoke(app, ["pack", "draft", str(page), "-o", str(out)])
    assert result.exit_code == 0, result.output
    check = runner.invoke(app, ["pack", "check", str(out)])
    assert check.exit_code == 0, check.output
    text = out.read_text()
    assert "window.analytics" not in text and "font-family" not in text
    assert "- id: what_we_collect\n    name: What we collect" in text  # the h2 is the context
    assert "privacy@brightleaf.example" in text
