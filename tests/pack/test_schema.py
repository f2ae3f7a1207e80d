"""The JSON Schema describes the pack format, and packs round-trip through it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from policykeeper import load_pack
from policykeeper.pack import Pack

DATA = Path(__file__).parent.parent / "data"
BUNDLED = ["koso", "kalos", "konzen", "kokkok", "kamoer"]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = Pack.model_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", BUNDLED + ["passing_full"])
def test_pack_round_trips_through_json(name: str, validator: jsonschema.Draft202012Validator) -> None:
    pack = load_pack(DATA / f"{name}.yaml" if name.startswith("passing") else name)
    dumped = pack.model_dump(mode="json")
    validator.validate(dumped)
    again = Pack.model_validate_json(json.dumps(dumped))
    assert again == pack


def test_schema_rejects_an_unknown_key(validator: jsonschema.Draft202012Validator) -> None:
    data = yaml.safe_load((DATA / "failing_unknown_key.yaml").read_text())
    data["version"]["updated_date"] = "2025-01-01"
    errors = list(validator.iter_errors(data))
    assert any("undeclared_feilds" in e.message for e in errors)


def test_every_field_is_described_or_obvious() -> None:
    schema = Pack.model_json_schema()
    assert schema["title"] == "Pack"
    assert "additionalProperties" in schema and schema["additionalProperties"] is False
