"""The master key ring and the erasure journal, kept outside the database.

A keystore is a directory (0700) holding ``keys.json`` (0600: the master keys, the
newest wrapping new data keys, older ones kept until a rotation has re-wrapped
everything, and the lookup secret) and ``erasures.journal`` (0600, see
:mod:`._journal`): the pseudonymous ids of subjects whose data key was destroyed.
Restoring a database backup re-applies the journal, so a backup taken before an
erasure never brings the erased subject back.

Many processes share one keystore (``serve``, the CLI, workers). Every change of
``keys.json`` is a read-modify-write under an exclusive lock on ``keys.lock``, and
each process re-reads ``keys.json`` when it changed (a ``stat`` tells), so a
rotation made by one process is seen by the others and none writes back a stale
copy. The journal is only ever appended to. A keystore from before the journal
(``keys.json`` with a ``shredded`` list) is migrated when it is opened.

The master key may instead come from the environment
(``POLICYKEEPER_MASTER_KEY``, urlsafe base64 of 32 bytes); the keystore directory
is still needed for the journal.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .._exceptions import KeyStoreError
from ._journal import JOURNAL_FILE, ErasureJournal

__all__ = ["ENV_MASTER_KEY", "KeyRing", "MasterKey"]

ENV_MASTER_KEY = "POLICYKEEPER_MASTER_KEY"
_FILE = "keys.json"
_LOCK = "keys.lock"


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
        shredded: Iterable[str] = (),
        env_key: MasterKey | None = None,
        lookup_secret: bytes | None = None,
    ):
        self.path = path
        self._keys = keys
        self._env_key = env_key
        self._lookup = lookup_secret or (
            hashlib.sha256(b"policykeeper-lookup" + env_key.secret).digest() if env_key else secrets.token_bytes(32)
        )
        self._journal = ErasureJournal(path / JOURNAL_FILE)
        self._stamp: tuple[int, int, int] | None = None
        pending = list(shredded)
        if pending:
            self._journal.append(pending)

    # -- opening -------------------------------------------------------------
    @classmethod
    def init(cls, path: Path) -> KeyRing:
        """Create a keystore with a fresh master key; refuses to overwrite one."""
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _locked(path):
            if (path / _FILE).exists():
                raise KeyStoreError(f"{path / _FILE} already exists; refusing to overwrite a master key")
            ErasureJournal.create(path / JOURNAL_FILE)
            ring = cls(path, [MasterKey.generate()])
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
                with _locked(path):
                    if not file.exists():
                        ErasureJournal.create(path / JOURNAL_FILE)
                        cls(path, [], (), env_key)._save()
                return cls.open(path)
            if create:
                try:
                    return cls.init(path)
                except KeyStoreError:
                    if not file.exists():
                        raise
                    return cls.open(path)  # another process created it first
            raise KeyStoreError(f"no keystore at {path}; run 'policykeeper keys init' or set {ENV_MASTER_KEY}")
        data = _read(file)
        if "shredded" in data or ("lookup" not in data and env_key is None):
            data = cls._upgrade(path, env_key)
        keys, lookup = _parse(file, data)
        ring = cls(path, keys, (), env_key, lookup)
        ring._stamp = _stamp(file)
        if not ring._journal.path.exists():
            raise KeyStoreError(f"the erasure journal {ring._journal.path} is missing; restore it from the keystore's "
                                "backup (without it, restored backups could bring erased people back)")
        return ring

    @staticmethod
    def _upgrade(path: Path, env_key: MasterKey | None) -> dict[str, object]:
        """Move an older keystore's ``shredded`` list into the journal, and give it a lookup secret, once."""
        file = path / _FILE
        with _locked(path):
            data = _read(file)
            journal = ErasureJournal(path / JOURNAL_FILE)
            if "shredded" in data:
                ErasureJournal.create(journal.path)
                listed = data.pop("shredded")
                if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
                    raise KeyStoreError(f"{file} is unreadable or damaged: 'shredded' is not a list of ids")
                journal.append(listed)  # durable before the list leaves keys.json
            if "lookup" not in data and env_key is None:
                data["lookup"] = _b64(secrets.token_bytes(32))  # fixed once, so lookups stay stable
            _write(path, data)
        return data

    # -- keys ------------------------------------------------------------------
    @property
    def current(self) -> MasterKey:
        if self._env_key is not None:
            return self._env_key
        self._reload_keys()
        if not self._keys:
            raise KeyStoreError("the keystore holds no master key")
        return self._keys[0]

    def get(self, key_id: str) -> MasterKey:
        for attempt in range(2):
            for k in ([self._env_key] if self._env_key else []) + self._keys:
                if k.id == key_id:
                    return k
            if attempt == 0:
                self._reload_keys()  # made by another process's rotation?
        raise KeyStoreError(f"master key {key_id} is not in the keystore (was it retired too early?)")

    def add_new_key(self) -> MasterKey:
        """Start a rotation: a new current key; the old ones stay until retired."""
        if self._env_key is not None:
            raise KeyStoreError(f"the master key comes from {ENV_MASTER_KEY}; rotate it there")
        key = MasterKey.generate()
        with _locked(self.path):
            self._reload_keys(force=True)
            self._keys.insert(0, key)
            self._save()
        return key

    def retire_old_keys(self) -> list[str]:
        """Finish a rotation once nothing is wrapped by the old keys any more."""
        with _locked(self.path):
            self._reload_keys(force=True)
            old = [k.id for k in self._keys[1:]]
            self._keys = self._keys[:1]
            self._save()
        return old

    def rotation_lock(self) -> contextlib.AbstractContextManager[None]:
        """Held for a whole rotation (new key, re-wrap, retire), so two rotations never interleave."""
        return _locked(self.path, "rotate.lock")

    @property
    def key_ids(self) -> list[str]:
        self._reload_keys()
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
        """Whether the key of this subject (or ``msg:ID``, ``req:REF``) was destroyed, by any process."""
        return subject_ref in self._journal

    def record_shredded(self, subject_ref: str) -> None:
        """Journal a destroyed key; durable (appended and fsync'd) when this returns."""
        self._journal.append([subject_ref])

    def record_shredded_many(self, subject_refs: Iterable[str]) -> None:
        """Journal several destroyed keys with one append and one fsync."""
        self._journal.append(subject_refs)

    @property
    def shredded(self) -> frozenset[str]:
        """Every journalled erasure, as the file holds it now."""
        return self._journal.entries()

    def read_journal(self) -> frozenset[str]:
        """Every journalled erasure, re-read and checked from the start of the file; raises KeyStoreError when the
        journal is missing or damaged (what ``restore`` relies on)."""
        return self._journal.verify()

    # -- storage ------------------------------------------------------------------
    def _reload_keys(self, *, force: bool = False) -> None:
        """Take up a change another process made to ``keys.json`` (one ``stat`` when nothing changed)."""
        file = self.path / _FILE
        try:
            stamp = _stamp(file)
        except OSError:
            if force:
                raise KeyStoreError(f"{file} is missing") from None
            return
        if stamp == self._stamp and not force:
            return
        keys, lookup = _parse(file, _read(file))
        self._keys = keys
        if lookup is not None:
            self._lookup = lookup
        self._stamp = stamp

    def _save(self) -> None:
        """Write ``keys.json`` (the caller holds the keystore lock)."""
        _write(self.path, {
            "format": 2,
            "keys": [{"id": k.id, "key": _b64(k.secret), "created": k.created} for k in self._keys],
            "lookup": _b64(self._lookup),
            "journal": JOURNAL_FILE,
        })
        self._stamp = _stamp(self.path / _FILE)


@contextlib.contextmanager
def _locked(path: Path, name: str = _LOCK) -> Iterator[None]:
    """An exclusive lock of the keystore (``keys.lock``: held around every read-modify-write of ``keys.json``)."""
    try:
        fd = os.open(path / name, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise KeyStoreError(f"cannot lock the keystore {path}: {type(exc).__name__}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _stamp(file: Path) -> tuple[int, int, int]:
    st = os.stat(file)
    return st.st_ino, st.st_mtime_ns, st.st_size


def _read(file: Path) -> dict[str, object]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyStoreError(f"{file} is unreadable or damaged: {exc}") from None
    if not isinstance(data, dict):
        raise KeyStoreError(f"{file} is unreadable or damaged: not a JSON object")
    return data


def _parse(file: Path, data: dict[str, object]) -> tuple[list[MasterKey], bytes | None]:
    try:
        keys = [MasterKey.from_secret(_unb64(k["key"], "a master key"), k["created"])
                for k in data["keys"]]  # type: ignore[attr-defined]
        lookup = _unb64(str(data["lookup"]), "the lookup secret") if "lookup" in data else None
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyStoreError(f"{file} is unreadable or damaged: {exc}") from None
    return keys, lookup


def _write(path: Path, data: dict[str, object]) -> None:
    tmp = path / f"{_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path / _FILE)
    dfd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
