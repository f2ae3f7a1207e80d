"""A transfer to one recipient abroad rests on what is on record for that recipient: its own security assessment,
the person's consent to that transfer, the person having been informed (the fact register); and the decision says
so word for word. Found by mutation testing (docs/testing.md): only region-wide safeguards were tested."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from policykeeper import DeniedError, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Decision, PolicyEngine
from policykeeper.pack import Pack
from policykeeper.store import open_database

from ..helpers import sign_agreements

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
ZHANG = {"name": "Zhang San", "phone": "+86 139 0000 1111", "email": "z@example.cn", "mailing_address": "1 Road",
         "id_number": "110", "bank_card": "6222"}
KAMOER = ("KAMOER-21", "KAMOER-72")
SHARE = ("zhang", "logistics", {"name"}, "purchase_delivery")


def _abroad(name: str, recipient: str, place: str, **transfers: object) -> Pack:
    pack = load_pack(name)
    moved = [r.model_copy(update={"place_of_processing": place}) if r.id == recipient else r for r in pack.recipients]
    update: dict[str, object] = {"recipients": moved}
    if transfers:
        update["transfers"] = pack.transfers.model_copy(update=transfers)  # type: ignore[union-attr]
    return pack.model_copy(update=update)


def _kamoer(pack: Pack, db_url: str, tmp_path: Path) -> PolicyEngine:
    eng = PolicyEngine(pack, open_database(db_url), KeyRing.init(tmp_path / "keys"))
    eng.collect("zhang", "purchase", ZHANG, now=NOW)
    sign_agreements(eng, "logistics", now=NOW)
    return eng


def _reasons(d: object) -> list[tuple[str, str, str, tuple[str, ...]]]:
    assert isinstance(d, Decision)
    return [(r.code, r.message, r.rule, tuple(r.promises)) for r in d.reasons]


def _refused(eng: PolicyEngine, *args: object) -> list[tuple[str, str, str, tuple[str, ...]]]:
    with pytest.raises(DeniedError) as info:
        eng.share(*args, now=NOW)  # type: ignore[arg-type]
    return _reasons(info.value.decision)


STANDARD = ("protection_standard", "adequately and equally protected as within the territory of the People's "
            "Republic of China")


def test_kamoer_21_a_recipient_abroad_needs_its_own_security_assessment(db_url: str, tmp_path: Path) -> None:
    eng = _kamoer(_abroad("kamoer", "logistics", "DE"), db_url, tmp_path)
    assert _refused(eng, *SHARE) == [("transfer_precondition", "Logistics service providers is in DE: a cross-border "
                                      "transfer needs security assessment first", "transfers", KAMOER)]
    eng.record_transfer_assessment("logistics", reference="SA-7", now=NOW)  # for the recipient, not the region
    got = eng.share(*SHARE, now=NOW)
    assert got["name"] == ["Zhang San"]
    assert _reasons(got.decision)[0] == ("ok_transfer", "cross-border transfer to DE meets security_assessment",
                                         "transfers", KAMOER)
    assert got.decision is not None and [(o.kind, o.value) for o in got.decision.obligations] == [STANDARD]


def test_kamoer_a_transfer_that_needs_the_person_informed_reads_it_from_the_register(
        db_url: str, tmp_path: Path) -> None:
    eng = _kamoer(_abroad("kamoer", "logistics", "DE", preconditions=("inform",)), db_url, tmp_path)
    assert _refused(eng, *SHARE) == [("transfer_precondition", "Logistics service providers is in DE: a cross-border "
                                      "transfer needs inform first", "transfers", KAMOER)]
    eng.record_fact("transfer_informed", person="zhang", reference="notice 3", now=NOW)
    got = eng.share(*SHARE, now=NOW)
    assert _reasons(got.decision)[0] == ("ok_transfer", "cross-border transfer to DE meets inform", "transfers",
                                         KAMOER)


def test_kalos_41_consent_to_the_transfer_to_one_recipient_is_enough_for_that_recipient(
        db_url: str, tmp_path: Path) -> None:
    eng = PolicyEngine(_abroad("kalos", "service_providers", "US"), open_database(db_url),
                       KeyRing.init(tmp_path / "keys"))
    eng.collect("li", "service_use", {"usage_data": "map tiles 120"}, now=NOW)
    share = ("li", "service_providers", {"usage_data"}, "provide_services")
    promised = ("KALOS-41", "KALOS-42", "KALOS-43")
    assert _refused(eng, *share) == [("transfer_precondition", "ZhiJian's service providers is in US: a cross-border "
                                      "transfer needs consent or de identification first", "transfers", promised)]
    eng.set_consent("li", "transfer:service_providers", "given", now=NOW)
    got = eng.share(*share, now=NOW)
    assert got["usage_data"] == ["map tiles 120"]
    assert _reasons(got.decision)[0] == ("ok_transfer", "cross-border transfer to US meets consent, "
                                         "de_identification", "transfers", promised)


def test_konzen_13_a_pack_that_allows_no_transfer_says_so_naming_the_rule(db_url: str, tmp_path: Path) -> None:
    eng = PolicyEngine(_abroad("konzen", "advertisers_and_agents", "US"), open_database(db_url),
                       KeyRing.init(tmp_path / "keys"))
    eng.collect("wang", "service_logs", {"device_info": "Pixel 8"}, now=NOW)
    eng.record_fact("agreement", party="advertisers_and_agents", arg="commitment_letter", reference="letter", now=NOW)
    assert _refused(eng, "wang", "advertisers_and_agents", {"device_info"}, "relevant_ads") == [
        ("transfer_not_allowed", "Advertisers and their agents is in US; no cross-border transfer is allowed",
         "transfers", ("KONZEN-13", "KONZEN-14"))]
