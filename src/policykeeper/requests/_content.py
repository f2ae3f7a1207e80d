"""What a person says with a request (a note; for a correction, the item to correct and its new value) and the notes
staff add while working it.

All of it is personal data: it is kept as one AES-GCM JSON value under the request's own key (the key that already
protects the reply address), so erasing the person destroys it with the address, and it never reaches the audit log,
which only says that a note was added or that staff looked at the person's values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .._exceptions import BadValueError
from ..crypto import decrypt, encrypt
from ..pack import Pack

__all__ = ["MAX_NOTE", "MAX_STAFF_NOTE", "MAX_VALUE", "RequestContent", "mask_address", "mask_value"]

MAX_NOTE = 2000
"""The longest note a person can add to a request (characters)."""
MAX_VALUE = 2000
"""The longest corrected value a person can ask for (the same bound as a profile edit)."""
MAX_STAFF_NOTE = 1000
"""The longest note staff can add to a request."""


@dataclass(frozen=True)
class RequestContent:
    """What the person asked: a free note, and for a correction the data category and the value they want."""

    note: str = ""
    category: str | None = None
    value: str | None = None

    @property
    def empty(self) -> bool:
        return not self.note and self.category is None and self.value is None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"note": self.note}
        if self.category is not None:
            out["correction"] = {"category": self.category, "value": self.value or ""}
        return out

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> RequestContent:
        corr = doc.get("correction") or {}
        return cls(str(doc.get("note") or ""), corr.get("category"), corr.get("value"))

    def checked(self, pack: Pack, right: str | None) -> RequestContent:
        """The content cleaned up, or :class:`BadValueError` saying which part is wrong: a note of at most
        :data:`MAX_NOTE` characters; a correction (only on a ``correct`` request) names one of the pack's data
        categories that is not locked and a new value of 1 to :data:`MAX_VALUE` characters."""
        note = self.note.strip()
        if len(note) > MAX_NOTE:
            raise BadValueError(f"note: at most {MAX_NOTE} characters, not {len(note)}")
        if self.category is None and self.value is None:
            return RequestContent(note)
        if right != "correct":
            raise BadValueError("correction: only a correction request says what to correct")
        category = (self.category or "").strip()
        names = {c.id for c in pack.data_categories}
        if category not in names:
            raise BadValueError(f"correction.category: {category!r} is not an item this policy holds"
                                if category else "correction.category: say which item to correct")
        fides = next(c.fides_key for c in pack.data_categories if c.id == category)
        if fides.startswith("user.authorization"):
            raise BadValueError("correction.category: a password or other credential is replaced on your profile, "
                                "never sent in a request")
        locked = pack.locked_categories()
        if category in locked:
            raise BadValueError(f"correction.category: {category!r} cannot be changed once registered "
                                f"({', '.join(locked[category])})")
        value = (self.value or "").strip()
        if not value or len(value) > MAX_VALUE:
            raise BadValueError(f"correction.value: the new value is 1 to {MAX_VALUE} characters")
        return RequestContent(note, category, value)


def seal(key: bytes, ref: str, doc: dict[str, Any]) -> bytes:
    return encrypt(key, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(), f"req:{ref}|content")


def unseal(key: bytes, ref: str, blob: bytes) -> dict[str, Any]:
    doc = json.loads(decrypt(key, blob, f"req:{ref}|content"))
    return doc if isinstance(doc, dict) else {}


def mask_address(address: str | None) -> str:
    """An email address as the queue shows it: enough to tell two requesters apart, too little to contact them
    (``z•••@e•••.cn``)."""
    if not address:
        return ""
    local, _, domain = address.strip().rpartition("@")
    if not local:
        return mask_value(address)
    host, dot, tld = domain.rpartition(".")
    shown_domain = f"{host[:1]}•••{dot}{tld}" if host else f"{domain[:1]}•••"
    return f"{local[:1]}•••@{shown_domain}"


def mask_value(value: str) -> str:
    """Any other value: its first character and how long it is, nothing more."""
    text = value.strip()
    return f"{text[:1]}••• ({len(text)})" if text else ""
