"""Whole drafts: each bundled policy drafts to a pack that loads, every quote sits verbatim at its offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from policykeeper import lint_pack, load_pack
from policykeeper.compiler import draft_pack, read_policy
from policykeeper.compiler._lexicon import CATEGORY_RULES, PURPOSE_RULES
from policykeeper.compiler._promises import tag_model
from policykeeper.compiler._review import locate, review_html, review_rows
from policykeeper.pack._taxonomy import default_data_categories, default_data_uses

from ..conftest import DATA, REPO

SEEDS = REPO / "bench" / "seeds"
NAMES = ("koso", "kalos", "konzen", "kokkok", "kamoer")


@pytest.mark.parametrize("name", NAMES)
def test_each_bundled_policy_drafts_to_a_pack_that_loads_with_every_quote_verbatim(name: str, tmp_path: Path) -> None:
    source = read_policy(str(SEEDS / f"{name}.txt"))
    d = draft_pack(source, pack_id=name, exclude=frozenset({name}))
    path = tmp_path / f"{name}.yaml"
    path.write_text(d.yaml_text)
    pack = load_pack(path)  # what `pack check` runs
    assert pack.id == name and len(pack.promises) >= 20
    for p in d.promises:
        assert source.text[p.start:p.end] == p.quote
    assert {p.quote for p in pack.promises} == {p.quote for p in d.promises}
    for it in d.items:
        if it.start is not None:
            assert source.text[it.start:it.end] == it.quote
    assert all(len(p.quote) <= 400 for p in pack.promises)


def test_a_policy_outside_the_five_drafts_and_all_its_values_are_quoted() -> None:
    source = read_policy(str(DATA / "compiler" / "brightleaf.md"))
    d = draft_pack(source)
    pack = d.pack
    assert pack.id == "brightleaf" and pack.controller.legal_name == "Brightleaf Garden Supplies Ltd."
    assert str(pack.version.updated_date) == "2025-03-03"
    assert [c.value for c in pack.contacts.channels] == ["privacy@brightleaf.example"]
    assert not isinstance(pack.minors, str) and pack.minors.threshold == 16
    assert pack.minors.enforcement == "block_registration"
    assert pack.disclosures[0].default == "deny"
    assert pack.purposes.closed is True
    assert pack.retention != "unspecified"
    newsletter = next(p for p in pack.purposes.items if p.data_use.startswith("marketing"))
    assert newsletter.legal_basis == "consent"  # "to send you our newsletter, if you have agreed to receive it"
    for it in d.items:
        if it.path in ("collection.contexts", "recipients"):
            continue  # notes on the section's shape (the contexts drafted, recipients left out), each part quoted below
        if it.value != "unspecified" and not it.note.startswith("NOT STATED"):
            assert it.quote is not None and locate(source.text, it.quote) is not None, it  # every stated value quoted
    for p in pack.promises:
        assert locate(source.text, p.quote) is not None
    from policykeeper.compiler._review import _rule_quotes

    quotes = list(_rule_quotes(pack, ""))
    assert len(quotes) > 20 and all(locate(source.text, q) is not None for _path, q in quotes)


def test_the_tag_model_leaves_out_the_excluded_pack() -> None:
    everything = tag_model()
    without = tag_model(frozenset({"kamoer"}))
    assert sum(everything.totals.values()) > sum(without.totals.values())
    assert without.vocabulary < everything.vocabulary


def test_every_fides_key_the_compiler_emits_is_in_the_default_taxonomy() -> None:
    assert {key for _i, _p, key, _c, _o in CATEGORY_RULES} <= default_data_categories()
    assert {use for _i, _p, use in PURPOSE_RULES} <= default_data_uses()


def test_a_contradiction_found_while_drafting_is_a_source_issue_that_lint_reports(tmp_path: Path) -> None:
    policy = tmp_path / "p.txt"
    policy.write_text("We collect your email address. We do not share your personal information with third parties. "
                      "We share your email address with our advertising partners to show you offers. "
                      "Contact: privacy@example.com\n")
    d = draft_pack(read_policy(str(policy)))
    [issue] = d.pack.source_issues
    assert issue.kind == "internal_conflict"
    [finding] = lint_pack(d.pack)
    assert finding.code == "source_conflict"
    assert finding.first_quote == "We do not share your personal information with third parties."
    assert finding.second_quote == "We share your email address with our advertising partners to show you offers."


def test_the_bundled_packs_lint_exactly_as_before() -> None:
    assert [f.code for f in lint_pack(load_pack("konzen"))] == ["sharing_contradiction", "pack_incomplete"]
    assert [f.code for f in lint_pack(load_pack("koso"))] == ["ads_contradiction"]


def test_review_rows_put_each_item_by_its_quote_and_flag_an_edited_quote(tmp_path: Path) -> None:
    source = read_policy(str(DATA / "compiler" / "brightleaf.md"))
    d = draft_pack(source)
    edited = d.yaml_text.replace("We do not sell your personal information.", "We never sell anything.", 1)
    path = tmp_path / "draft.yaml"
    path.write_text(edited)
    pack = load_pack(path)
    rows = review_rows(pack, source)
    promises = [r for r in rows if r.kind == "promise"]
    assert len(promises) == len(pack.promises)
    assert all(source.text[r.start:r.end] == r.quote for r in promises if r.start is not None)
    bad = [r for r in rows if "NOT FOUND" in r.note]
    assert bad and all(r.quote == "We never sell anything." for r in bad)
    assert any(r.kind == "value" and r.item == "retention" or r.item.startswith("retention") for r in rows)
    page = review_html(pack, source, rows)
    assert page.startswith("<!doctype html>") and "<mark id=" in page and "We never sell anything." in page


def test_a_list_and_its_lead_in_are_one_promise_and_sentences_about_the_policy_are_none() -> None:
    from policykeeper.compiler import Source, normalise

    text = normalise("This Privacy Policy explains how we collect and use your information.\n"
                     "Such jurisdictions may have different data protection laws.\n"
                     "You have the following rights over your personal information:\n"
                     "- Access your personal information and get a copy of it;\n"
                     "- Correct your personal information;\n"
                     "- Delete your personal information.\n"
                     "We retain your personal information for six months after you close your account, unless a law "
                     "requires us to keep it longer, in which case we keep it only for as long as that law requires "
                     "and delete it or make it anonymous as soon as that period ends, and we tell you when we do so.")
    d = draft_pack(Source(name="t.txt", format="text", text=text), pack_id="t")
    quotes = [p.quote for p in d.pack.promises]
    lead = next(q for q in quotes if q.startswith("You have the following rights"))
    assert lead.endswith("Delete your personal information.")  # lead-in and items, one verbatim passage
    assert lead in text
    assert not any(q.startswith("This Privacy Policy explains") for q in quotes)
    assert not any(q.startswith("Such jurisdictions") for q in quotes)
    assert any(q.startswith("We retain your personal information") for q in quotes)


def test_a_long_list_is_cut_into_passages_within_the_quote_limit() -> None:
    from policykeeper.compiler import Source, normalise

    items = "\n".join(f"- You may request that we delete your personal information in case number {i} of this list;"
                      for i in range(12))
    text = normalise("In the following situations, you can request us to delete your personal information:\n" + items)
    d = draft_pack(Source(name="t.txt", format="text", text=text), pack_id="t")
    assert len(d.pack.promises) >= 3
    assert all(len(p.quote) <= 400 and p.quote in text for p in d.pack.promises)


def test_the_bench_counts_an_extra_element_of_a_stated_set_apart_from_an_invented_value() -> None:
    from policykeeper.bench._draft import _compare

    truth = load_pack("kamoer")
    data = truth.model_dump(mode="json", exclude_none=True)
    data["security"] = [*data["security"], {**data["security"][0], "id": "extra_one", "kind": "audit_logging"}]
    data["marketing"]["targeted_ads"] = True
    import yaml

    from policykeeper.pack import parse_pack

    draft = parse_pack(yaml.safe_dump(data, sort_keys=False), "kamoer.yaml")
    out = _compare(draft, truth, set())
    assert out["extra"] == ["security.kind=audit_logging"]
    assert out["invented"] == ["marketing.targeted_ads"]
    assert out["correct"] == out["emitted"] - 2
