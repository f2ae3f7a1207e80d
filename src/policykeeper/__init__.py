"""policykeeper: a privacy policy as a machine-readable pack, enforced, with evidence."""

from ._exceptions import (
    DecryptionError,
    ErrorCode,
    KeyStoreError,
    PackError,
    PackIssue,
    PackNotFoundError,
    PackReferenceError,
    PackSchemaError,
    PackSyntaxError,
    PolicykeeperError,
)
from .pack import (
    Change,
    Coverage,
    Finding,
    Pack,
    Promise,
    bundled_pack_names,
    bundled_pack_path,
    coverage,
    diff_packs,
    lint_pack,
    load_pack,
    parse_pack,
    render_pack,
)

__version__ = "0.1.0"

__all__ = [
    "Change",
    "Coverage",
    "DecryptionError",
    "ErrorCode",
    "Finding",
    "KeyStoreError",
    "Pack",
    "PackError",
    "PackIssue",
    "PackNotFoundError",
    "PackReferenceError",
    "PackSchemaError",
    "PackSyntaxError",
    "PolicykeeperError",
    "Promise",
    "__version__",
    "bundled_pack_names",
    "bundled_pack_path",
    "coverage",
    "diff_packs",
    "lint_pack",
    "load_pack",
    "parse_pack",
    "render_pack",
]
