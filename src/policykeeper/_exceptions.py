"""The exceptions policykeeper raises.

Every error has a stable ``code`` (documented in ``docs/errors.md``); the CLI,
the API and the web turn them into their own shape in one place each.

    PolicykeeperError             base of every error policykeeper raises on purpose
    ├── PackError                 a pack file could not be loaded or is invalid
    │   ├── PackSyntaxError       not YAML, or not a mapping at the top
    │   ├── PackSchemaError       a key, type or value does not fit the model
    │   └── PackReferenceError    a reference names something the pack does not declare
    ├── PackNotFoundError         no such file or bundled pack
    ├── KeyStoreError             the master key or keystore is missing, damaged or misused
    ├── DecryptionError           a ciphertext does not open under the key it names
    ├── ConfigError               a setting (such as the database URL) is unusable
    ├── DeniedError               the pack does not allow the action; carries the decision
    ├── SubjectNotFoundError      no data is held about that person (or it was erased)
    ├── BadValueError             a value given to policykeeper is wrong (says what and where)
    │   ├── BadDetailError        a person's detail does not fit its kind (an email, a date of birth ...)
    │   └── PrivilegedFactError   a caller stated a fact only the engine's records can establish
    ├── ErasureIncompleteError    an erasure could not prove nothing personal is left; it changed nothing
    └── AuditEventError           an audit entry does not fit its kind's registered shape (a bug; nothing written)

Every class is in this tree, indented under its base (tests/test_exceptions.py compares the two).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "AuditEventError",
    "BadDetailError",
    "BadValueError",
    "ConfigError",
    "DecryptionError",
    "DeniedError",
    "ErasureIncompleteError",
    "ErrorCode",
    "KeyStoreError",
    "PackError",
    "PackIssue",
    "PackNotFoundError",
    "PackReferenceError",
    "PackSchemaError",
    "PackSyntaxError",
    "PolicykeeperError",
    "PrivilegedFactError",
    "SubjectNotFoundError",
]

ErrorCode = Literal[
    "pack_not_found",
    "pack_syntax",
    "pack_schema",
    "pack_reference",
    "keystore",
    "decryption",
    "config",
    "denied",
    "subject_not_found",
    "bad_value",
    "erasure_incomplete",
    "privileged_fact",
    "audit_event",
]


class PolicykeeperError(Exception):
    """Base of every error policykeeper raises on purpose. A subclass names its ``code`` in its declaration
    (``class KeyStoreError(PolicykeeperError, code="keystore")``), or keeps its base's."""

    code: ErrorCode

    def __init_subclass__(cls, *, code: ErrorCode | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PackIssue:
    """One problem in a pack file, located by file, line and key path."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        key = f" at {self.path}" if self.path else ""
        return f"{where}{key}: {self.message}"


class PackError(PolicykeeperError, code="pack_schema"):
    """A pack could not be loaded; ``issues`` says what and where."""

    def __init__(self, issues: list[PackIssue]) -> None:
        self.issues = tuple(issues)
        first = issues[0] if issues else None
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(f"{first}{more}" if first else "invalid pack")


class PackSyntaxError(PackError, code="pack_syntax"):
    """Not YAML, or not a mapping at the top."""


class PackSchemaError(PackError, code="pack_schema"):
    """A key, type or value does not fit the model."""


class PackReferenceError(PackError, code="pack_reference"):
    """A reference names something the pack does not declare."""


class PackNotFoundError(PolicykeeperError, code="pack_not_found"):
    """No such file or bundled pack."""


class KeyStoreError(PolicykeeperError, code="keystore"):
    """The master key or keystore is missing, damaged or misused."""


class DecryptionError(PolicykeeperError, code="decryption"):
    """A ciphertext does not open under the key it names."""


class ConfigError(PolicykeeperError, code="config"):
    """A setting (such as the database URL) is unusable."""


class DeniedError(PolicykeeperError, code="denied"):
    """The pack does not allow the action; ``decision`` says which rule and promise."""

    def __init__(self, message: str, decision: object) -> None:
        super().__init__(message)
        self.decision = decision


class SubjectNotFoundError(PolicykeeperError, code="subject_not_found"):
    """No data is held about that person (or it was erased)."""


class BadValueError(PolicykeeperError, code="bad_value"):
    """``kind``, where set, names the check that refused the value (a stable key such as ``incident_closed``, which a
    page maps to its own words in its reader's language, docs/errors.md); ``facts`` holds what the message names
    (numbers, labels, keys of the pack: never personal data)."""

    def __init__(self, message: str, *, kind: str | None = None, **facts: object) -> None:
        super().__init__(message)
        self.kind = kind
        self.facts = facts


class BadDetailError(BadValueError):
    """A new value for a person's detail does not fit its category's kind (``engine._values``): ``category`` and
    ``problem`` (a stable key, such as ``email`` or ``date_future``) say which and why; the message holds no value."""

    def __init__(self, category: str, problem: str, message: str) -> None:
        self.category = category
        self.problem = problem
        super().__init__(message)


class PrivilegedFactError(BadValueError, code="privileged_fact"):
    """A caller stated a fact that unlocks a protection (consent, parental consent, de-identification, an account,
    a subscription, an agreement ...): only the engine's own records establish those. ``names`` lists them."""

    def __init__(self, names: tuple[str, ...] | list[str]) -> None:
        self.names = tuple(sorted(set(names)))
        super().__init__("privileged facts cannot be stated by the caller; the engine derives them from its own "
                         "records: " + ", ".join(self.names) + " (docs/engine.md, Facts)")


class ErasureIncompleteError(PolicykeeperError, code="erasure_incomplete"):
    """An erasure could not prove that nothing personal is left for the person; it changed nothing."""


class AuditEventError(PolicykeeperError, code="audit_event"):
    """An audit entry of an unknown kind, or whose detail does not fit its kind's registered shape
    (``policykeeper.audit._events``). A programming error, caught before anything is written: the transaction the
    entry belonged to is rolled back with it."""
