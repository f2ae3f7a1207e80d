"""Value types shared by every part of the pack model.

Conventions
-----------
* Every model is strict: an unknown key is an error (``extra="forbid"``), so a
  typo in a pack can never silently drop a promise.
* Every model is frozen: a loaded pack is a value.
* ``"unspecified"`` is a real value, distinct from ``false`` or ``0``: it says
  the policy is silent on the matter. A pack never borrows another policy's
  value to fill a gap.
* Every rule can name the promise IDs it implements (``promises``) and the
  exact seed sentence it encodes (``quote``), so coverage can be computed from
  the pack alone and any failure traced back to the policy text.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Condition",
    "Duration",
    "DurationUnit",
    "Fact",
    "FixedDuration",
    "Key",
    "PromiseId",
    "Quote",
    "Rule",
    "SourceStatus",
    "Strict",
    "SymbolicDuration",
    "Unspecified",
    "UNSPECIFIED",
]

UNSPECIFIED = "unspecified"
Unspecified = Literal["unspecified"]
"""The policy says nothing on this matter (not the same as false, none or 0)."""

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_PROMISE_RE = re.compile(r"^[A-Z][A-Z0-9]*-[0-9]{2,}$")


def _check_key(value: str) -> str:
    if not _KEY_RE.match(value):
        raise ValueError(
            f"{value!r} is not a valid key: use lower case letters, digits and "
            "underscores, starting with a letter (e.g. 'customer_support')"
        )
    return value


def _check_promise_id(value: str) -> str:
    if not _PROMISE_RE.match(value):
        raise ValueError(
            f"{value!r} is not a promise ID: expected PREFIX-NN, e.g. 'KOKKOK-12'"
        )
    return value


Key = Annotated[str, AfterValidator(_check_key)]
"""A pack-local identifier: lower snake case."""

PromiseId = Annotated[str, AfterValidator(_check_promise_id)]
"""A promise ID such as ``KOKKOK-12``."""

Quote = Annotated[str, Field(min_length=1, max_length=400)]

SourceStatus = Literal["stated", "missing", "conflict", "garbled", "inferred"]


def _show_enforcement(schema: dict[str, Any], cls: type) -> None:
    """Each property of the JSON Schema says whether the field is enforced (and where) or descriptive (and why)."""
    from ._enforcement import marking_of

    for name, prop in schema.get("properties", {}).items():
        marking = marking_of(cls, name)
        if marking is not None:
            prop["x-enforcement"] = marking.as_schema()


class Strict(BaseModel):
    """Base of every pack model: unknown keys are errors, values are frozen. Each field is marked enforced or
    descriptive in ``_enforcement`` (shown in the JSON Schema as ``x-enforcement``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False,
                              json_schema_extra=_show_enforcement)


class Rule(Strict):
    """A pack element that implements promises of the policy."""

    promises: tuple[PromiseId, ...] = Field(
        default=(),
        description="IDs of the policy's promises this rule implements (e.g. KOKKOK-12).",
    )
    quote: Quote | None = Field(
        default=None,
        description="Optional exact sentence of the policy this rule encodes.",
    )


# --------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------

DurationUnit = Literal["calendar_days", "business_days", "hours", "months", "years"]

SymbolicDuration = Literal[
    "immediately",
    "promptly",
    "asap",
    "reasonable_period",
    "per_applicable_law",
    "necessary_for_purpose",
    "shortest_necessary",
    "until_user_clears",
    "until_account_cancelled",
    "while_using_service",
    "indefinite",
    "unspecified",
]
"""A duration the policy gives in words rather than numbers."""


class FixedDuration(Strict):
    """A duration in numbers, e.g. 30 calendar days or 7 business days."""

    value: int = Field(ge=0, description="How many units.")
    unit: DurationUnit = Field(description="Calendar days, business days, hours, months or years.")
    qualifier: str | None = Field(
        default=None,
        description="A hedge the policy puts on the number, e.g. 'in general'.",
    )


Duration = FixedDuration | SymbolicDuration
"""Either a fixed duration or a symbolic one (``promptly``, ``per_applicable_law`` ...)."""


# --------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------

FactName = Literal[
    "account_exists",
    "subscribed",
    "os_permission_granted",
    "device_positioning_on",
    "feature_active",
    "product_authorized",
    "consent",
    "parental_consent",
    "legal_hold",
    "provider_accepted_request",
    "provider_screened",
    "member",
    "agreement_signed",
    "security_assessment_done",
    "de_identified",
    "successor_bound",
    "ground_recorded",
]

_FACT_NAMES: frozenset[str] = frozenset(FactName.__args__)  # type: ignore[attr-defined]


def _check_fact(value: str) -> str:
    name, _, arg = value.partition(":")
    if name not in _FACT_NAMES:
        raise ValueError(
            f"unknown fact {name!r}; known facts: {', '.join(sorted(_FACT_NAMES))}"
        )
    if ":" in value and not arg:
        raise ValueError(f"fact {value!r} has an empty argument after ':'")
    return value


Fact = Annotated[str, AfterValidator(_check_fact)]
"""A fact about the context, optionally with an argument: ``subscribed:dashboard_app``."""


class Condition(Strict):
    """A small expression over context facts: all of ``all``, and at least one of ``any``."""

    all: tuple[Fact, ...] = Field(default=(), description="Facts that must all hold.")
    any: tuple[Fact, ...] = Field(default=(), description="Facts of which at least one must hold.")

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        if not self.all and not self.any:
            raise ValueError("a condition needs at least one fact in 'all' or 'any'")
        return self

    def facts(self) -> tuple[str, ...]:
        return self.all + self.any
