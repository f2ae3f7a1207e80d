"""The decision point over a fixture pack: allowed and denied paths, each naming rule and promise."""

from __future__ import annotations

from pathlib import Path

import pytest

from policykeeper import load_pack
from policykeeper.engine import Collect, CompiledPack, Facts, Share, Use, compile_pack, decide

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture(scope="module")
def cp() -> CompiledPack:
    return compile_pack(load_pack(DATA / "passing_full.yaml"))


def f(**kw: object) -> Facts:
    kw.setdefault("channel", "app")
    for k in ("consents", "conditions", "grounds", "agreements"):
        if k in kw:
            kw[k] = frozenset(kw[k])  # type: ignore[arg-type]
    return Facts(**kw)  # type: ignore[arg-type]


def test_registration_with_essential_field_is_allowed(cp: CompiledPack) -> None:
    d = decide(cp, f(), Collect("registration", frozenset({"email"})))
    assert d.allowed and d.pack_version == "2025-02-01" and d.pack_id == "fullco"
    assert d.reasons[-1].rule == "collection.contexts[0]"
    assert len(d.decision_id) == 32


def test_missing_essential_field_is_denied_naming_rule_and_promise(cp: CompiledPack) -> None:
    d = decide(cp, f(), Collect("registration", frozenset()))
    assert not d.allowed
    [r] = d.denials
    assert (r.code, r.rule) == ("essential_missing", "collection.contexts[0].fields[0]")
    assert "FULL-01" in d.promises


def test_undeclared_field_is_refused(cp: CompiledPack) -> None:
    d = decide(cp, f(), Collect("registration", frozenset({"email", "trips"})))
    assert not d.allowed and d.denials[0].code == "undeclared_field"


def test_unknown_context_is_refused(cp: CompiledPack) -> None:
    d = decide(cp, f(), Collect("newsletter", frozenset({"email"})))
    assert not d.allowed and d.denials[0].code == "unknown_context"


def test_activation_condition(cp: CompiledPack) -> None:
    action = Collect("navigation", frozenset({"trips"}))
    denied = decide(cp, f(conditions={"account_exists"}), action)
    assert not denied.allowed
    assert denied.denials[0].code == "condition_unmet" and "os_permission_granted:location" in denied.denials[0].message
    allowed = decide(cp, f(conditions={"account_exists", "os_permission_granted:location"}), action)
    assert allowed.allowed


def test_channel_is_required(cp: CompiledPack) -> None:
    d = decide(cp, Facts(), Collect("registration", frozenset({"email"})))
    assert not d.allowed and d.denials[0].code == "channel_required"


def test_child_needs_parental_consent(cp: CompiledPack) -> None:
    action = Collect("registration", frozenset({"email"}))
    d = decide(cp, f(age=12), action)
    assert not d.allowed and d.denials[0].code == "parental_consent_missing" and "FULL-07" in d.promises
    assert decide(cp, f(age=12, conditions={"parental_consent"}), action).allowed
    assert decide(cp, f(age=14), action).allowed


def test_declined_policy_means_no_processing(cp: CompiledPack) -> None:
    d = decide(cp, f(policy_declined=True), Collect("registration", frozenset({"email"})))
    assert not d.allowed and d.denials[0].code == "policy_declined"


def test_purpose_bound_use(cp: CompiledPack) -> None:
    assert decide(cp, f(), Use("account", frozenset({"email"}))).allowed
    d = decide(cp, f(), Use("account", frozenset({"trips"})))
    assert not d.allowed and d.denials[0].code == "category_not_allowed"


def test_consent_purpose_and_withdrawal(cp: CompiledPack) -> None:
    action = Use("navigation", frozenset({"trips"}))
    d = decide(cp, f(), action)
    assert not d.allowed and d.denials[0].code == "consent_missing" and "FULL-03" in d.promises
    assert decide(cp, f(consents={"navigation"}), action).allowed
    assert decide(cp, f(consents={"navigation_location"}), action).allowed  # a consent rule that targets it


def test_undeclared_purpose_needs_prior_consent(cp: CompiledPack) -> None:
    action = Use("profiling", frozenset({"email"}))
    d = decide(cp, f(), action)
    assert not d.allowed and d.denials[0].code == "undeclared_purpose" and "FULL-02" in d.promises
    assert decide(cp, f(consents={"profiling"}), action).allowed


def test_share_to_declared_recipient(cp: CompiledPack) -> None:
    action = Share("cloud", frozenset({"email"}), "account")
    d = decide(cp, f(), action)
    assert not d.allowed and d.denials[0].code == "agreement_missing"
    assert decide(cp, f(agreements={"confidentiality"}), action).allowed
    wrong = decide(cp, f(agreements={"confidentiality"}), Share("cloud", frozenset({"onboard"}), "account"))
    assert not wrong.allowed and wrong.denials[0].code == "category_not_allowed"
    wrong_purpose = decide(cp, f(agreements={"confidentiality"}), Share("cloud", frozenset({"email"}), "ads"))
    assert not wrong_purpose.allowed and wrong_purpose.denials[0].code == "purpose_not_allowed"


def test_share_abroad_needs_a_transfer_safeguard(cp: CompiledPack) -> None:
    action = Share("ad_network", frozenset({"email"}), "ads")
    d = decide(cp, f(consents={"ad_network"}), action)
    assert not d.allowed and {r.code for r in d.denials} == {"transfer_precondition"}
    assert decide(cp, f(consents={"ad_network", "transfer"}), action).allowed
    assert decide(cp, f(consents={"ad_network"}, conditions={"de_identified"}), action).allowed  # logic: any


def test_ad_hoc_disclosure_needs_an_exception(cp: CompiledPack) -> None:
    action = Share("police", frozenset({"email"}), "account")
    d = decide(cp, f(), action)
    assert not d.allowed and d.denials[0].code == "no_exception" and "FULL-04" in d.promises
    assert decide(cp, f(grounds={"legal_requirement"}), action).allowed
    assert not decide(cp, f(grounds={"curiosity"}), action).allowed
