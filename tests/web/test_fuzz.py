"""Fuzzing the REST API from its own OpenAPI document (schemathesis): for every operation, valid and invalid inputs
never cause a server error, and every answer has a documented status code and matches its documented schema.

The app runs on a SQLite file with a few people collected, and the calls carry an admin API key so the operations
behind authentication are reached (and, for the privacy center's operations, a signed-in person's session).
Generation is derandomized (the same cases every run) and kept small for CI."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from policykeeper import load_pack
from policykeeper.crypto import KeyRing
from policykeeper.store import open_database
from policykeeper.web import MemoryMailer, WebContext, create_api_key, create_app
from policykeeper.web._auth import open_person_session, send_login_code

PEOPLE = {
    "zhang": {"phone": "+86 139 0000 1111", "email": "zhang@example.cn", "username": "reefkeeper", "password": "Coral#1"},
    "li": {"phone": "+86 139 0000 2222", "email": "li@example.cn", "username": "li-reef", "password": "Tang#2025!"},
    "wu": {"phone": "+86 139 0000 3333", "email": "wu@example.cn", "username": "wu", "password": "Wu#2025!"},
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ_EXAMPLES = 25


def _context(home: Path) -> WebContext:
    return WebContext(db=open_database(f"sqlite:///{home / 'fuzz.db'}"), keys=KeyRing.init(home / "keys"),
                      pack=load_pack("kamoer"), mailer=MemoryMailer(), max_body=64_000)


# The schema is loaded when the module is collected (schemathesis makes one test per operation from it), so the app
# exists from then; the fixture below fills its database and removes it afterwards. (schemathesis' lazy loader,
# ``schemathesis.pytest.from_fixture``, does not run on pytest 9.)
HOME = Path(tempfile.mkdtemp(prefix="pk-fuzz-"))
CTX = _context(HOME)
APP = create_app(CTX)
schema = schemathesis.openapi.from_asgi("/v1/openapi.json", APP)
schema.config.generation.update(max_examples=FUZZ_EXAMPLES, deterministic=True, modes=["positive", "negative"])
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@pytest.fixture(scope="module")
def admin_key() -> Iterator[str]:
    """Some people collected and a request submitted, so there is data to reach; an admin key to reach it with."""
    eng = CTX.engine()
    for person, values in PEOPLE.items():
        eng.collect(person, "registration", values)
    CTX.requests().submit("zhang", "access", email="zhang@example.cn")
    yield create_api_key(CTX, "fuzzing", "admin")
    CTX.db.dispose()
    shutil.rmtree(HOME, ignore_errors=True)


@pytest.fixture
def person_token(admin_key: str) -> str:
    """A person signed in afresh for each operation (one may close the account or end the session); each is a new
    person, as sign-in codes are limited per person and hour."""
    person = f"fuzz-{len(SIGNED_IN)}"
    SIGNED_IN.append(person)
    email = f"{person}@example.cn"
    CTX.engine().collect(person, "registration", {**PEOPLE["li"], "email": email, "username": person})
    assert isinstance(CTX.mailer, MemoryMailer)
    send_login_code(CTX, person, email)
    code = re.search(r"Your code is (\d{6})", CTX.mailer.messages[0]["body"])
    assert code is not None
    return open_person_session(CTX, person, code.group(1))


SIGNED_IN: list[str] = []


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_operation_fails_or_answers_outside_its_schema(case: Any, admin_key: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_key}"}, checks=CHECKS)


@schema.include(path_regex="^/v1/(me|session)").parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_a_signed_in_persons_operations_never_fail_or_answer_outside_their_schema(case: Any,
                                                                                  person_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {person_token}"}, checks=CHECKS)
