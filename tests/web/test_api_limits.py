"""The API's limits are the library's: each bound the OpenAPI document states for a field is the one the library
function behind it enforces, so a value the API takes is never refused by the library for its size, and the API
never refuses one the library would take."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import BaseModel

from policykeeper import organisation
from policykeeper._exceptions import BadDetailError, BadValueError
from policykeeper.engine import check_detail
from policykeeper.engine._values import MAX_TEXT
from policykeeper.incidents import record_incident
from policykeeper.web import _auth
from policykeeper.web._errors import ApiError
from policykeeper.web.api import _keys, _me, _organisation, _requests, _session
from policykeeper.web.api._facts import FactIn
from policykeeper.web.api._incidents import IncidentIn, StepIn

from .conftest import Web
from .test_api import ZHANG, _signup


def _bound(model: type[BaseModel], field: str, key: str) -> int:
    """The bound ``key`` (maxLength, maximum) the model's JSON schema states for ``field`` (optional ones too)."""
    schema: dict[str, Any] = model.model_json_schema()["properties"][field]
    for option in [schema, *schema.get("anyOf", [])]:
        if key in option:
            return int(option[key])
    raise AssertionError(f"{model.__name__}.{field} states no {key}")


def _refused(call: Any, *errors: type[Exception]) -> bool:
    try:
        call()
    except errors:
        return True
    return False


def test_an_extension_is_bounded_as_the_request_service_bounds_it(web: Web) -> None:
    days, reason = _bound(_requests.ExtendIn, "days", "maximum"), _bound(_requests.ExtendIn, "reason", "maxLength")
    assert (days, reason) == (_requests.MAX_EXTENSION_DAYS, _requests.MAX_EXTENSION_REASON) == (90, 200)
    _signup(web, "zhang", ZHANG)
    svc = web.ctx.requests()
    ref = svc.submit("zhang", "access", email=ZHANG["email"]).ref
    handling = web.ctx.pack.requests
    assert not isinstance(handling, str) and not isinstance(handling.verification, str)
    svc.verify_by_staff(ref, handling.verification.methods[0], reference="ticket 1")  # open and verified: extendable
    assert _refused(lambda: svc.extend(ref, days + 1, reason="busy"), BadValueError)
    assert _refused(lambda: svc.extend(ref, 1, reason="r" * (reason + 1)), BadValueError)
    officer = web.as_role("privacy_officer")
    for body in ({"days": days + 1, "reason": "busy"}, {"days": 1, "reason": "r" * (reason + 1)}):
        got = web.client.post(f"/v1/requests/{ref}/extend", json=body, headers=officer)
        assert got.status_code == 422, got.text  # refused by the API's model, before the library
    got = web.client.post(f"/v1/requests/{ref}/extend", json={"days": days, "reason": "r" * reason}, headers=officer)
    assert got.status_code == 200, got.text  # the longest both allow goes through


def test_a_staff_verification_is_bounded_as_the_request_service_bounds_it(web: Web) -> None:
    model = _requests.StaffVerifyIn
    reference, reason = _bound(model, "reference", "maxLength"), _bound(model, "mismatch_reason", "maxLength")
    authority = _bound(model, "authority_reference", "maxLength")
    _signup(web, "zhang", ZHANG)
    svc = web.ctx.requests()
    ref = svc.submit("zhang", "access", email=ZHANG["email"]).ref
    handling = web.ctx.pack.requests
    assert not isinstance(handling, str) and not isinstance(handling.verification, str)
    method = handling.verification.methods[0]
    assert _refused(lambda: svc.verify_by_staff(ref, method, reference="r" * (reference + 1)), BadValueError)
    assert _refused(lambda: svc.verify_by_staff(ref, method, reference="r", mismatch_reason="m" * (reason + 1)),
                    BadValueError)
    assert _refused(lambda: svc.verify_by_staff(ref, method, reference="r", authority_reference="a" * (authority + 1)),
                    BadValueError)
    done = svc.verify_by_staff(ref, method, reference="r" * reference, mismatch_reason="m" * reason,
                               authority_reference="a" * authority)
    assert done.status == "verified"


def test_the_organisation_register_is_bounded_by_the_librarys_constants(web: Web) -> None:
    dept, training = _organisation.DepartmentIn, _organisation.TrainingIn
    assert _bound(dept, "name", "maxLength") == organisation.MAX_NAME
    assert _bound(dept, "contact", "maxLength") == organisation.MAX_CONTACT
    roles = dept.model_json_schema()["properties"]["roles"]
    assert roles["propertyNames"]["maxLength"] == organisation.MAX_ROLE_TITLE
    assert roles["additionalProperties"]["maximum"] == organisation.MAX_HEAD_COUNT
    assert _bound(training, "topic", "maxLength") == organisation.MAX_TOPIC
    assert _bound(training, "attendance", "maximum") == organisation.MAX_ATTENDANCE
    eng = web.ctx.engine()

    def dept_with(**change: Any) -> Any:
        values: dict[str, Any] = {"name": "Privacy office", "contact": "privacy@example.cn", "roles": {"DPO": 1}}
        return lambda: organisation.set_department(eng, **{**values, **change})

    assert _refused(dept_with(name="n" * (organisation.MAX_NAME + 1)), BadValueError)
    assert _refused(dept_with(contact="p" * organisation.MAX_CONTACT + "@example.cn"), BadValueError)
    assert _refused(dept_with(roles={"t" * (organisation.MAX_ROLE_TITLE + 1): 1}), BadValueError)
    assert _refused(dept_with(roles={"DPO": organisation.MAX_HEAD_COUNT + 1}), BadValueError)
    dept_with(name="n" * organisation.MAX_NAME, roles={"t" * organisation.MAX_ROLE_TITLE: organisation.MAX_HEAD_COUNT})()
    today = dt.date.today() - dt.timedelta(days=1)
    assert _refused(lambda: organisation.record_training(eng, held_on=today, topic="t" * (organisation.MAX_TOPIC + 1),
                                                         attendance=1), BadValueError)
    assert _refused(lambda: organisation.record_training(eng, held_on=today, topic="t",
                                                         attendance=organisation.MAX_ATTENDANCE + 1), BadValueError)
    organisation.record_training(eng, held_on=today, topic="t" * organisation.MAX_TOPIC,
                                 attendance=organisation.MAX_ATTENDANCE)


def test_keys_and_sign_in_codes_are_bounded_as_the_web_layer_checks_them(web: Web) -> None:
    assert _bound(_keys.KeyIn, "name", "maxLength") == _auth.MAX_KEY_NAME
    assert _bound(_session.CodeIn, "identifier", "maxLength") == _auth.MAX_IDENTIFIER
    assert _bound(_session.CodeIn, "email", "maxLength") == _auth.MAX_EMAIL
    assert _bound(_me.RequestIn, "email", "maxLength") == _auth.MAX_EMAIL
    assert _bound(_me.EmailConfirm, "value", "maxLength") == _auth.MAX_EMAIL
    assert _refused(lambda: _auth.create_api_key(web.ctx, "k" * (_auth.MAX_KEY_NAME + 1), "auditor"), ApiError)
    assert _auth.create_api_key(web.ctx, "k" * _auth.MAX_KEY_NAME, "auditor").startswith("pkk_")
    assert _refused(lambda: _auth.send_login_code(web.ctx, "i" * (_auth.MAX_IDENTIFIER + 1), ZHANG["email"]),
                    ApiError)
    assert _refused(lambda: _auth.send_login_code(web.ctx, "zhang", "e" * _auth.MAX_EMAIL + "@x.cn"), ApiError)
    _auth.send_login_code(web.ctx, "i" * _auth.MAX_IDENTIFIER, "e" * (_auth.MAX_EMAIL - 5) + "@x.cn")


def test_a_new_value_is_bounded_as_the_engine_checks_a_detail(web: Web) -> None:
    assert _bound(_me.ProfileIn, "value", "maxLength") == MAX_TEXT
    assert _bound(_requests.FulfilIn, "value", "maxLength") == MAX_TEXT
    username = next(c for c in web.ctx.pack.data_categories if c.id == "username")
    with pytest.raises(BadDetailError):
        check_detail(username, "u" * (MAX_TEXT + 1), today=dt.date.today())
    assert check_detail(username, "u" * MAX_TEXT, today=dt.date.today()) == "u" * MAX_TEXT


def test_a_facts_and_an_incidents_reference_are_bounded_as_the_library_bounds_them(web: Web) -> None:
    fact, incident, step = (_bound(FactIn, "reference", "maxLength"), _bound(IncidentIn, "reference", "maxLength"),
                            _bound(StepIn, "reference", "maxLength"))
    eng = web.ctx.engine()
    recipient = web.ctx.pack.recipients[0].id
    assert _refused(lambda: eng.record_fact("agreement", party=recipient, arg="confidentiality",
                                            reference="r" * (fact + 1)), BadValueError)
    assert eng.record_fact("agreement", party=recipient, arg="confidentiality", reference="r" * fact) > 0
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    assert _refused(lambda: record_incident(eng, started_at=start, systems=["crm"], categories=[],
                                            reference="r" * (incident + 1)), BadValueError)
    assert record_incident(eng, started_at=start, systems=["crm"], categories=[], reference="r" * incident) > 0
    assert step == incident
