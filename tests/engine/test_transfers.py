"""Where data is kept and how it may cross a border: storage regions, transfer rules, security assessments.

Each test named after a promise ID drives the real engine on SQLite and PostgreSQL, denial path included.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from policykeeper import BadValueError, ConfigError, DeniedError, PrivilegedFactError, audit, load_pack
from policykeeper.crypto import KeyRing
from policykeeper.engine import Facts, PolicyEngine
from policykeeper.pack import Pack
from policykeeper.store import audit_log, disclosures, open_database, transfer_assessments

from ..helpers import codes

NOW = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)
KALOS_PERSON = {"basic_data": "Li Wei, 138 0013 8000", "user_info": "liwei@example.cn"}
KAMOER_BUYER = {"name": "Zhang San", "phone": "+86 139 0000 1111", "email": "zhang@example.cn",
                "mailing_address": "88 Huaihai Road, Shanghai", "id_number": "310101199001011234",
                "bank_card": "6222 0000 1111 2222"}


def _engine(pack: str | Pack, db_url: str, tmp_path: Path, region: str | None = None) -> PolicyEngine:
    p = load_pack(pack) if isinstance(pack, str) else pack
    keys = tmp_path / "keys"
    ring = KeyRing.open(keys) if keys.exists() else KeyRing.init(keys)
    return PolicyEngine(p, open_database(db_url), ring, region=region)



# -- storage regions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pack", "home", "promise"), [
    ("koso", "US", "KOSO-30"), ("kalos", "CN", "KALOS-40"), ("konzen", "CN", "KONZEN-12"), ("kamoer", "CN", "KAMOER-21"),
])
def test_a_deployment_outside_the_promised_storage_regions_is_refused(
    pack: str, home: str, promise: str, db_url: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as info:
        _engine(pack, db_url, tmp_path, region="DE")
    assert promise in str(info.value) and "'DE'" in str(info.value)
    assert _engine(pack, db_url, tmp_path, region=home).region == home


def test_koso_30_data_is_stored_only_in_the_us_or_east_asia(db_url: str, tmp_path: Path) -> None:
    for region in ("US", "east_asia"):
        eng = _engine("koso", db_url, tmp_path, region=region)
        got = eng.collect("rider-1", "account_creation", {"email": "rider@example.com"}, now=NOW)
        assert got.decision.allowed
    for region in ("EU", "CN", "JP"):
        with pytest.raises(ConfigError, match="KOSO-30"):
            _engine("koso", db_url, tmp_path, region=region)


def test_kalos_40_prc_data_is_stored_in_the_prc_by_default(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KALOS-40"):
        _engine("kalos", db_url, tmp_path, region="US")
    eng = _engine("kalos", db_url, tmp_path, region="CN")
    assert eng.collect("li", "business_function", KALOS_PERSON, now=NOW).decision.allowed
    # reading it inside the PRC is no transfer; reading it from abroad is one (see KALOS-41)
    assert eng.read("li", "provide_services", {"basic_data"}, Facts(region="CN"), now=NOW)["basic_data"]


def test_konzen_12_data_collected_in_china_is_stored_in_china(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KONZEN-12"):
        _engine("konzen", db_url, tmp_path, region="SG")
    eng = _engine("konzen", db_url, tmp_path, region="CN")
    got = eng.collect("wang", "registration", {"phone": "+86 135 1234 5678", "email": "wang@example.cn"}, now=NOW)
    assert got.decision.allowed


# -- KOSO: a named recipient abroad with an opt-out -----------------------------------------------------------------


def test_koso_21_facebook_audience_network_gets_ad_data_in_the_us_with_its_opt_out_shown(
    db_url: str, tmp_path: Path
) -> None:
    eng = _engine("koso", db_url, tmp_path, region="east_asia")
    eng.collect("rider", "any_interaction", {"browser_name": "Firefox 126", "device_type": "Pixel 8",
                                             "connection_info": "Android 14, Chunghwa Telecom"}, now=NOW)
    fan = eng.pack.recipients[[r.id for r in eng.pack.recipients].index("facebook_audience_network")]
    assert fan.place_of_processing == "US" and fan.purposes == ("advertising",)
    got = eng.share("rider", "facebook_audience_network", {"device_type"}, "advertising", now=NOW)
    assert got == {"device_type": ["Pixel 8"]}
    with eng.db.connect() as conn:
        row = conn.execute(select(audit_log.c.detail, audit_log.c.promises).where(audit_log.c.kind == "decision")
                           .order_by(audit_log.c.seq.desc())).first()
    assert row is not None and "KOSO-21" in row.promises
    # the share hands back the opt-out the person must be shown, and the audit entry records it was handed over
    offer = got.decision.obliges("offer_opt_out")
    assert offer is not None and offer.value == fan.opt_out_url and offer.for_person and offer.by == "caller"
    assert f"offer_opt_out:{fan.opt_out_url}" in row.detail["obligations"]
    # only for advertising
    with pytest.raises(DeniedError) as info:
        eng.share("rider", "facebook_audience_network", {"device_type"}, "market_research", now=NOW)
    assert "purpose_not_allowed" in codes(info) and "KOSO-21" in info.value.decision.promises
    # once the person opts out, nothing more goes there
    eng.set_consent("rider", "facebook_audience_network", "withdrawn", now=NOW)
    with pytest.raises(DeniedError) as info:
        eng.share("rider", "facebook_audience_network", {"device_type"}, "advertising", now=NOW + dt.timedelta(1))
    assert "opted_out" in codes(info)
    with eng.db.connect() as conn:
        assert len(conn.execute(select(disclosures.c.id)).all()) == 1


# -- KALOS: consent or de-identification before data leaves the PRC ----------------------------------------------


@pytest.fixture
def kalos(db_url: str, tmp_path: Path) -> PolicyEngine:
    eng = _engine("kalos", db_url, tmp_path, region="CN")
    eng.collect("li", "business_function", KALOS_PERSON, now=NOW)
    return eng


def test_kalos_41_overseas_transfer_or_access_needs_authorised_consent(kalos: PolicyEngine) -> None:
    abroad = Facts(region="US")
    with pytest.raises(DeniedError) as info:
        kalos.share("li", "service_providers", {"user_info"}, "provide_services", abroad, now=NOW)
    assert "transfer_precondition" in codes(info) and "KALOS-41" in info.value.decision.promises
    with pytest.raises(DeniedError) as info:  # access from abroad counts as a transfer
        kalos.read("li", "provide_services", {"user_info"}, abroad, now=NOW)
    assert "transfer_precondition" in codes(info)
    kalos.set_consent("li", "overseas_transfer", "given", now=NOW)
    later = NOW + dt.timedelta(minutes=1)
    assert kalos.share("li", "service_providers", {"user_info"}, "provide_services", abroad, now=later) == {
        "user_info": ["liwei@example.cn"]}
    assert kalos.read("li", "provide_services", {"user_info"}, abroad, now=later)["user_info"]
    kalos.set_consent("li", "overseas_transfer", "withdrawn", now=later)
    with pytest.raises(DeniedError):
        kalos.read("li", "provide_services", {"user_info"}, abroad, now=later + dt.timedelta(minutes=1))
    # inside the PRC nothing changes
    assert kalos.read("li", "provide_services", {"user_info"}, Facts(region="CN"), now=later)["user_info"]


def test_kalos_42_an_overseas_recipient_owes_protection_equal_to_the_prc(kalos: PolicyEngine) -> None:
    t = kalos.pack.transfers
    assert not isinstance(t, str) and t.protection_standard and "People's Republic of China" in t.protection_standard
    with pytest.raises(DeniedError) as info:
        kalos.share("li", "service_providers", {"user_info"}, "provide_services", Facts(region="SG"), now=NOW)
    assert "KALOS-42" in info.value.decision.promises
    kalos.set_consent("li", "overseas_transfer", "given", now=NOW)

    got = kalos.share("li", "service_providers", {"user_info"}, "provide_services", Facts(region="SG"),
                      now=NOW + dt.timedelta(minutes=1))
    d = got.decision
    assert d.allowed and f"protection_standard:{t.protection_standard}" in d.obligation_names
    assert "KALOS-42" in d.promises
    with kalos.db.connect() as conn:  # handed over to the caller, and audited as such
        detail = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "decision")
                              .order_by(audit_log.c.seq.desc())).scalars().first()
    assert f"protection_standard:{t.protection_standard}" in detail["obligations"]


def test_kalos_43_de_identification_before_transfer_is_an_allowed_safeguard(kalos: PolicyEngine) -> None:
    abroad = Facts(region="US")
    with pytest.raises(DeniedError):
        kalos.share("li", "service_providers", {"user_info"}, "provide_services", abroad, now=NOW)
    # a caller cannot just claim the data is de-identified: only the engine's own de-identification counts
    with pytest.raises(PrivilegedFactError, match="de_identified"):
        kalos.share("li", "service_providers", {"user_info"}, "provide_services",
                    Facts(region="US", conditions=frozenset({"de_identified"})), now=NOW)
    got = kalos.share("li", "service_providers", {"user_info"}, "provide_services", abroad, de_identify=True, now=NOW)
    (token,) = got["user_info"]
    assert token.startswith("pseudonym:") and "liwei" not in token
    again = kalos.share("li", "service_providers", {"user_info"}, "provide_services", abroad, de_identify=True, now=NOW)
    assert again["user_info"] == [token]  # stable per recipient, so the recipient can still link records
    with kalos.db.connect() as conn:
        rows = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "decision")).scalars().all()
    assert any(d.get("de_identified") is True for d in rows)


# -- KONZEN: no cross-border transfer; turning it on needs informed consent -------------------------------------


def test_konzen_13_no_personal_data_crosses_the_border(db_url: str, tmp_path: Path) -> None:
    eng = _engine("konzen", db_url, tmp_path, region="CN")
    eng.collect("wang", "registration", {"phone": "+86 135 1234 5678", "email": "wang@example.cn"}, now=NOW)
    told = {"export purpose": "ad measurement", "recipient": "AdCo Ltd", "security measures": "TLS, audits",
            "security risks": "foreign legal access"}
    eng.set_consent("wang", "cross_border", "given", evidence=told, now=NOW)
    eng.set_consent("wang", "transfer", "given", evidence=told, now=NOW)
    with pytest.raises(DeniedError) as info:
        eng.share("wang", "advertisers_and_agents", {"device_info"}, "relevant_ads", Facts(region="US"), now=NOW)
    assert "transfer_not_allowed" in codes(info) and "KONZEN-13" in info.value.decision.promises


def test_konzen_14_turning_transfers_on_needs_the_four_disclosures_and_consent(db_url: str, tmp_path: Path) -> None:
    pack = load_pack("konzen")
    assert not isinstance(pack.transfers, str)
    turned_on = pack.model_copy(update={"transfers": pack.transfers.model_copy(update={
        "cross_border": "allowed_with_preconditions", "currently_active": True})})
    eng = _engine(turned_on, db_url, tmp_path, region="CN")
    eng.collect("wang", "service_logs", {"device_info": "Huawei P60", "browsing_info": "/domains/search",
                                         "click_info": "buy .cn", "cookie_identifiers": "ck-91ab"}, now=NOW)
    eng.record_fact("agreement", party="advertisers_and_agents", arg="commitment_letter", reference="letter 3",
                    now=NOW)
    abroad = Facts(region="US")
    with pytest.raises(DeniedError) as info:
        eng.share("wang", "advertisers_and_agents", {"device_info"}, "relevant_ads", abroad, now=NOW)
    assert "transfer_precondition" in codes(info) and "KONZEN-14" in info.value.decision.promises
    told = {"export purpose": "ad measurement", "recipient": "AdCo Ltd", "security measures": "TLS, audits"}
    with pytest.raises(BadValueError, match="security risks"):
        eng.set_consent("wang", "cross_border", "given", evidence=told, now=NOW)
    eng.set_consent("wang", "cross_border", "given", evidence={**told, "security risks": "foreign legal access"},
                    now=NOW)
    got = eng.share("wang", "advertisers_and_agents", {"device_info"}, "relevant_ads", abroad,
                    now=NOW + dt.timedelta(minutes=1))
    assert got["device_info"][0].startswith("pseudonym:")  # the advertisers only ever get de-identified data


# -- KAMOER: a security assessment on record before data leaves -------------------------------------------------


@pytest.fixture
def kamoer(db_url: str, tmp_path: Path) -> PolicyEngine:
    eng = _engine("kamoer", db_url, tmp_path, region="CN")
    eng.collect("zhang", "purchase", KAMOER_BUYER, now=NOW)
    return eng


def test_kamoer_21_cross_border_transmission_needs_a_security_assessment_first(kamoer: PolicyEngine) -> None:
    for paper in ("confidentiality", "instructions_only"):
        kamoer.record_fact("agreement", party="logistics", arg=paper, reference="carrier contract", now=NOW)
    abroad = Facts(region="DE")
    with pytest.raises(DeniedError) as info:
        kamoer.share("zhang", "logistics", {"mailing_address"}, "purchase_delivery", abroad, now=NOW)
    assert "transfer_precondition" in codes(info) and "KAMOER-21" in info.value.decision.promises
    assert "security assessment" in str(info.value)
    kamoer.set_consent("zhang", "transfer", "given", now=NOW)  # consent is not what this pack asks for
    with pytest.raises(DeniedError):
        kamoer.share("zhang", "logistics", {"mailing_address"}, "purchase_delivery", abroad, now=NOW)
    aid = kamoer.record_transfer_assessment("DE", reference="CAC-SA-2025-0042", now=NOW)
    later = NOW + dt.timedelta(hours=1)
    assert kamoer.share("zhang", "logistics", {"mailing_address"}, "purchase_delivery", abroad, now=later) == {
        "mailing_address": ["88 Huaihai Road, Shanghai"]}
    # an assessment covers its destination only
    with pytest.raises(DeniedError):
        kamoer.share("zhang", "logistics", {"mailing_address"}, "purchase_delivery",
                     Facts(region="US"), now=later)
    with kamoer.db.connect() as conn:
        assert conn.execute(select(transfer_assessments.c.destination)).scalars().all() == ["DE"]
        entry = conn.execute(select(audit_log.c.detail, audit_log.c.promises)
                             .where(audit_log.c.kind == "transfer_assessment")).one()
        assert entry.detail["assessment"] == aid and "KAMOER-21" in entry.promises
        assert audit.verify(conn).ok


def test_kamoer_72_access_from_abroad_needs_a_current_adequate_assessment(kamoer: PolicyEngine) -> None:
    abroad = Facts(region="US")
    with pytest.raises(DeniedError) as info:  # remote access counts as a transfer
        kamoer.read("zhang", "purchase_delivery", {"name"}, abroad, now=NOW)
    assert "KAMOER-72" in info.value.decision.promises
    kamoer.record_transfer_assessment("US", reference="SA-US-1", outcome="inadequate", now=NOW)
    with pytest.raises(DeniedError):
        kamoer.read("zhang", "purchase_delivery", {"name"}, abroad, now=NOW + dt.timedelta(hours=1))
    kamoer.record_transfer_assessment("US", reference="SA-US-2", valid_until=NOW + dt.timedelta(days=365), now=NOW)
    got = kamoer.read("zhang", "purchase_delivery", {"name"}, abroad, now=NOW + dt.timedelta(days=1))
    assert got == {"name": ["Zhang San"]}
    t = kamoer.pack.transfers  # the reader abroad is handed the protection standard it owes
    assert not isinstance(t, str) and f"protection_standard:{t.protection_standard}" in got.decision.obligation_names
    with pytest.raises(DeniedError):  # the assessment has lapsed
        kamoer.read("zhang", "purchase_delivery", {"name"}, abroad, now=NOW + dt.timedelta(days=366))


def test_a_transfer_assessment_with_bad_fields_is_refused_and_changes_nothing(kamoer: PolicyEngine) -> None:
    for kwargs in ({"reference": ""}, {"reference": "x", "outcome": "fine"},
                   {"reference": "x", "valid_until": NOW - dt.timedelta(days=1)}):
        with pytest.raises(BadValueError):
            kamoer.record_transfer_assessment("DE", now=NOW, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(BadValueError):
        kamoer.record_transfer_assessment("", reference="x", now=NOW)
    with kamoer.db.connect() as conn:
        assert conn.execute(select(transfer_assessments.c.id)).first() is None
