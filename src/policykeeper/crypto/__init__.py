"""Envelope encryption of personal data and the keystore that holds the master key."""

from ._cipher import decrypt, encrypt, new_data_key, unwrap_data_key, wrap_data_key
from ._keys import ENV_MASTER_KEY, KeyRing, MasterKey
from ._regroup import regroup_records
from ._rotate import rotate_master_key

__all__ = [
    "ENV_MASTER_KEY",
    "KeyRing",
    "MasterKey",
    "decrypt",
    "encrypt",
    "new_data_key",
    "regroup_records",
    "rotate_master_key",
    "unwrap_data_key",
    "wrap_data_key",
]
