"""How an identity value is matched with the company's data: one rule per identity type, applied the same way to the
value a request gives (in Python, here) and to the column it is compared with (in SQL, in
``store.connectors.sql_normalised``).

- ``email``: surrounding spaces trimmed, letters lower-cased (``Some.One@Example.NET`` is ``some.one@example.net``);
- ``phone``: spaces, ``-``, ``.``, ``/``, ``(``, ``)`` and ``+`` removed, then a leading international ``00``
  (``+856 20 5555-0101``, ``0085620 5555 0101`` and ``856.20.5555.0101`` are one number);
- ``exact``: surrounding spaces trimmed, nothing else.

SQLite's ``lower()`` folds ASCII letters only; PostgreSQL's folds by the database's locale. Addresses are ASCII in
practice; a non-ASCII local part is matched exactly on SQLite. An index on the same expression (e.g.
``CREATE INDEX ... ON customers (lower(trim(email)))``) keeps the lookup fast.
"""

from __future__ import annotations

from typing import Literal

from ..store.connectors import PHONE_NOISE as _PHONE_NOISE

__all__ = ["IdentityRule", "default_rule", "normalise"]

IdentityRule = Literal["email", "phone", "exact"]


def default_rule(identity: str) -> IdentityRule:
    """The rule for an identity the map does not declare one for: by its name."""
    name = identity.lower()
    if "email" in name:
        return "email"
    if "phone" in name or name in ("mobile", "tel", "telephone"):
        return "phone"
    return "exact"


def normalise(rule: IdentityRule, value: str) -> str:
    """The form ``value`` is compared in."""
    v = value.strip()
    if rule == "email":
        return v.lower()
    if rule == "phone":
        v = v.translate(str.maketrans("", "", _PHONE_NOISE))
        return v[2:] if v.startswith("00") else v
    return v
