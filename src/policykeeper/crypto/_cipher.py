"""AES-GCM envelope encryption: a data key per subject, wrapped by the master key."""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .._exceptions import DecryptionError
from ._keys import MasterKey

__all__ = ["decrypt", "encrypt", "new_data_key", "unwrap_data_key", "wrap_data_key"]

_VERSION = b"\x01"
_NONCE = 12


def new_data_key() -> bytes:
    """A fresh random 256-bit data key."""
    return secrets.token_bytes(32)


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(_NONCE)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes, what: str) -> bytes:
    if len(blob) < 1 + _NONCE + 16 or blob[:1] != _VERSION:
        raise DecryptionError(f"{what}: not a policykeeper ciphertext")
    try:
        return AESGCM(key).decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], aad)
    except InvalidTag:
        raise DecryptionError(f"{what}: wrong key or tampered ciphertext") from None


def wrap_data_key(master: MasterKey, data_key: bytes, subject_ref: str) -> bytes:
    """Encrypt a subject's data key under the master key, bound to the subject."""
    return _seal(master.secret, data_key, b"dek|" + subject_ref.encode())


def unwrap_data_key(master: MasterKey, wrapped: bytes, subject_ref: str) -> bytes:
    return _open(master.secret, wrapped, b"dek|" + subject_ref.encode(), "data key")


def encrypt(data_key: bytes, plaintext: bytes, context: str) -> bytes:
    """Encrypt one personal value; ``context`` (subject, category, record) is authenticated."""
    return _seal(data_key, plaintext, context.encode())


def decrypt(data_key: bytes, blob: bytes, context: str) -> bytes:
    return _open(data_key, blob, context.encode(), "value")
