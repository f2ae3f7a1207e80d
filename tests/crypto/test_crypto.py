"""Envelope encryption and the keystore."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from policykeeper import DecryptionError, KeyStoreError
from policykeeper.crypto import (
    ENV_MASTER_KEY,
    KeyRing,
    MasterKey,
    decrypt,
    encrypt,
    new_data_key,
    unwrap_data_key,
    wrap_data_key,
)


def test_value_round_trip_and_binding() -> None:
    key = new_data_key()
    blob = encrypt(key, b"alice@example.com", "s1|email|7")
    assert b"alice" not in blob
    assert decrypt(key, blob, "s1|email|7") == b"alice@example.com"
    with pytest.raises(DecryptionError, match="wrong key or tampered"):
        decrypt(key, blob, "s2|email|7")  # moved to another subject or record
    with pytest.raises(DecryptionError):
        decrypt(new_data_key(), blob, "s1|email|7")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        decrypt(key, tampered, "s1|email|7")
    with pytest.raises(DecryptionError, match="not a policykeeper ciphertext"):
        decrypt(key, b"plain", "s1|email|7")


def test_same_value_encrypts_differently() -> None:
    key = new_data_key()
    assert encrypt(key, b"x", "c") != encrypt(key, b"x", "c")


def test_data_key_is_wrapped_for_one_subject() -> None:
    master = MasterKey.generate()
    dek = new_data_key()
    wrapped = wrap_data_key(master, dek, "s1")
    assert dek not in wrapped
    assert unwrap_data_key(master, wrapped, "s1") == dek
    with pytest.raises(DecryptionError):
        unwrap_data_key(master, wrapped, "s2")


def test_keystore_init_is_private_and_never_overwrites(tmp_path: Path) -> None:
    ring = KeyRing.init(tmp_path / "ks")
    assert stat.S_IMODE((tmp_path / "ks").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "ks" / "keys.json").stat().st_mode) == 0o600
    with pytest.raises(KeyStoreError, match="refusing to overwrite"):
        KeyRing.init(tmp_path / "ks")
    again = KeyRing.open(tmp_path / "ks")
    assert again.current == ring.current


def test_missing_keystore_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="policykeeper keys init"):
        KeyRing.open(tmp_path / "none")


def test_damaged_keystore_is_a_clear_error(tmp_path: Path) -> None:
    KeyRing.init(tmp_path)
    (tmp_path / "keys.json").write_text("{not json")
    with pytest.raises(KeyStoreError, match="unreadable or damaged"):
        KeyRing.open(tmp_path)


def test_rotation_keeps_old_keys_until_retired(tmp_path: Path) -> None:
    ring = KeyRing.init(tmp_path)
    old = ring.current
    new = ring.add_new_key()
    reopened = KeyRing.open(tmp_path)
    assert reopened.current == new and reopened.get(old.id) == old
    assert reopened.retire_old_keys() == [old.id]
    with pytest.raises(KeyStoreError, match="not in the keystore"):
        KeyRing.open(tmp_path).get(old.id)


def test_master_key_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = os.urandom(32)
    monkeypatch.setenv(ENV_MASTER_KEY, base64.urlsafe_b64encode(secret).decode())
    ring = KeyRing.open(tmp_path / "ks")
    assert ring.current.secret == secret
    with pytest.raises(KeyStoreError, match="rotate it there"):
        ring.add_new_key()
    monkeypatch.setenv(ENV_MASTER_KEY, base64.urlsafe_b64encode(b"short").decode())
    with pytest.raises(KeyStoreError, match="32 bytes"):
        KeyRing.open(tmp_path / "ks")


def test_erasure_journal_persists(tmp_path: Path) -> None:
    ring = KeyRing.init(tmp_path)
    ring.record_shredded("s1")
    assert KeyRing.open(tmp_path).is_shredded("s1")
    assert not KeyRing.open(tmp_path).is_shredded("s2")


def test_lookup_hash_is_stable_across_opens_even_for_an_older_keystore(tmp_path: Path) -> None:
    import json

    ring = KeyRing.init(tmp_path)
    assert KeyRing.open(tmp_path).lookup_hash("alice") == ring.lookup_hash("alice")
    data = json.loads((tmp_path / "keys.json").read_text())
    del data["lookup"]  # as written before lookup secrets existed
    (tmp_path / "keys.json").write_text(json.dumps(data))
    first = KeyRing.open(tmp_path).lookup_hash("alice")
    assert KeyRing.open(tmp_path).lookup_hash("alice") == first
    assert "alice" not in (tmp_path / "keys.json").read_text()
