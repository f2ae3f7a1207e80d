"""The master key ring and the erasure journal, kept outside the database.

A keystore is a directory (0700) holding ``keys.json`` (0600): the master keys
(the newest wraps new data keys; older ones stay until a rotation has re-wrapped
everything) and the *shredded* list: pseudonymous ids of subjects whose data key
was destroyed. Restoring a database backup re-applies that list, so a backup
taken before an erasure never brings the erased subject back.

The master key may instead come from the environment
(``POLICYKEEPER_MASTER_KEY``, urlsafe base64 of 32 bytes); the keystore directory
is still needed for the shredded list.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from .._exceptions import KeyStoreError

__all__ = ["ENV_MASTER_KEY", "KeyRing", "MasterKey"]

ENV_MASTER_KEY = "POLICYKEEPER_MASTER_KEY"
_FILE = "keys.json"


@dataclass(frozen=True)
class MasterKey:
    """A 256-bit key-encryption key, known by a short id derived from it."""

    id: str
    secret: bytes
    created: str

    @staticmethod
    def generate() -> MasterKey:
        return MasterKey.from_secret(secrets.token_bytes(32))

    @staticmethod
    def from_secret(secret: bytes, created: str | None = None) -> MasterKey:
        if len(secret) != 32:
            raise KeyStoreError(f"a master key must be 32 bytes, got {len(secret)}")
        kid = hashlib.sha256(b"policykeeper-kek-id" + secret).hexdigest()[:16]
        return MasterKey(kid, secret, created or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise KeyStoreError(f"{what} is not valid urlsafe base64") from None


class KeyRing:
    """Master keys (current first) and the erasure journal of one keystore directory."""

    def __init__(
        self,
        path: Path,
        keys: list[MasterKey],
        shredded: set[str],
        env_key: MasterKey | None = None,
        lookup_secret: bytes | None = None,
    ):
        self.path = path
        self._keys = keys
        self._shredded = shredded
        self._env_key = env_key
        self._lookup = lookup_secret or (
            hashlib.sha256(b"policykeeper-lookup" + env_key.secret).digest() if env_key else secrets.token_bytes(32)
        )

    # -- opening -------------------------------------------------------------
    @classmethod
    def init(cls, path: Path) -> KeyRing:
        """Create a keystore with a fresh master key; refuses to overwrite one."""
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if (path / _FILE).exists():
            raise KeyStoreError(f"{path / _FILE} already exists; refusing to overwrite a master key")
        ring = cls(path, [MasterKey.generate()], set())
        ring._save()
        return ring

    @classmethod
    def open(cls, path: Path, *, create: bool = False) -> KeyRing:
        """Open a keystore; with ``create``, make one on first use."""
        env = os.environ.get(ENV_MASTER_KEY)
        env_key = MasterKey.from_secret(_unb64(env, ENV_MASTER_KEY)) if env else None
        file = path / _FILE
        if not file.exists():
            if env_key is not None:
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
                ring = cls(path, [], set(), env_key)
                ring._save()
                return ring
            if create:
                return cls.init(path)
            raise KeyStoreError(f"no keystore at {path}; run 'policykeeper keys init' or set {ENV_MASTER_KEY}")
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            keys = [MasterKey.from_secret(_unb64(k["key"], "a master key"), k["created"]) for k in data["keys"]]
            shredded = set(data.get("shredded", []))
            lookup = _unb64(data["lookup"], "the lookup secret") if "lookup" in data else None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeyStoreError(f"{file} is unreadable or damaged: {exc}") from None
        ring = cls(path, keys, shredded, env_key, lookup)
        if lookup is None and env_key is None:
            ring._save()  # a keystore from before lookup secrets: fix its secret once, so lookups stay stable
        return ring

    # -- keys ------------------------------------------------------------------
    @property
    def current(self) -> MasterKey:
        if self._env_key is not None:
            return self._env_key
        if not self._keys:
            raise KeyStoreError("the keystore holds no master key")
        return self._keys[0]

    def get(self, key_id: str) -> MasterKey:
        for k in ([self._env_key] if self._env_key else []) + self._keys:
            if k.id == key_id:
                return k
        raise KeyStoreError(f"master key {key_id} is not in the keystore (was it retired too early?)")

    def add_new_key(self) -> MasterKey:
        """Start a rotation: a new current key; the old ones stay until retired."""
        if self._env_key is not None:
            raise KeyStoreError(f"the master key comes from {ENV_MASTER_KEY}; rotate it there")
        key = MasterKey.generate()
        self._keys.insert(0, key)
        self._save()
        return key

    def retire_old_keys(self) -> list[str]:
        """Finish a rotation once nothing is wrapped by the old keys any more."""
        old = [k.id for k in self._keys[1:]]
        self._keys = self._keys[:1]
        self._save()
        return old

    @property
    def key_ids(self) -> list[str]:
        return [k.id for k in self._keys]

    def lookup_hash(self, external_id: str) -> str:
        """A keyed hash of the app's identifier for a person: finds the subject without storing the identifier."""
        return hmac.new(self._lookup, external_id.encode(), hashlib.sha256).hexdigest()

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte secret for one named use (e.g. signing unsubscribe links), derived from the lookup secret.

        SHA-512 keeps it apart from every ``lookup_hash`` (SHA-256), so no stored lookup can reveal it."""
        return hmac.new(self._lookup, b"policykeeper-derive:" + purpose.encode(), hashlib.sha512).digest()[:32]

    # -- erasure journal -------------------------------------------------------
    def is_shredded(self, subject_ref: str) -> bool:
        return subject_ref in self._shredded

    def record_shredded(self, subject_ref: str) -> None:
        if subject_ref not in self._shredded:
            self._shredded.add(subject_ref)
            self._save()

    @property
    def shredded(self) -> frozenset[str]:
        return frozenset(self._shredded)

    # -- storage ------------------------------------------------------------------
    def _save(self) -> None:
        data = {
            "format": 1,
            "keys": [{"id": k.id, "key": _b64(k.secret), "created": k.created} for k in self._keys],
            "shredded": sorted(self._shredded),
            "lookup": _b64(self._lookup),
        }
        tmp = self.path / (_FILE + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / _FILE)
