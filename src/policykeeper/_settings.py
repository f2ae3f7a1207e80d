"""Where policykeeper keeps its state: a home directory, a database URL and a keystore."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._exceptions import ConfigError

if TYPE_CHECKING:
    from .pack._types import FixedDuration

__all__ = ["DEFAULT_PACK", "ENV_DATABASE_URL", "ENV_HOME", "ENV_PACK", "ENV_REGION", "Settings", "durations",
           "read_settings_file"]

ENV_HOME = "POLICYKEEPER_HOME"
ENV_DATABASE_URL = "POLICYKEEPER_DATABASE_URL"
ENV_PACK = "POLICYKEEPER_PACK"
ENV_REGION = "POLICYKEEPER_REGION"
DEFAULT_PACK = "kokkok"


@dataclass(frozen=True)
class Settings:
    """The home directory (default ``~/.policykeeper``), the database (default a SQLite file in it) and the keystore."""

    home: Path
    database_url: str
    keystore: Path
    pack: str = DEFAULT_PACK
    """The pack the engine enforces: a file or a bundled pack's name ($POLICYKEEPER_PACK, default kokkok)."""
    region: str | None = None
    """Where this deployment stores data ($POLICYKEEPER_REGION); checked against the pack's home regions."""

    @staticmethod
    def load(home: Path | None = None, database_url: str | None = None, pack: str | None = None) -> Settings:
        root = Path(home or os.environ.get(ENV_HOME) or Path.home() / ".policykeeper").expanduser()
        url = database_url or os.environ.get(ENV_DATABASE_URL) or f"sqlite:///{root / 'policykeeper.db'}"
        return Settings(home=root, database_url=url, keystore=root / "keys",
                        pack=pack or os.environ.get(ENV_PACK) or DEFAULT_PACK,
                        region=os.environ.get(ENV_REGION) or None)


def read_settings_file(path: Path, sections: tuple[str, ...], what: str) -> dict[str, dict[Any, Any]]:
    """The mappings under ``sections`` of a YAML settings file in the home directory (each empty when the file is
    missing); anything else in the file is an error naming the file."""
    import yaml

    if not path.exists():
        return {name: {} for name in sections}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {type(exc).__name__}") from None
    if not isinstance(data, dict) or set(data) - set(sections):
        raise ConfigError(f"{path}: expected only {' and '.join(repr(n) for n in sections)}")
    found = {name: data.get(name) or {} for name in sections}
    for name, value in found.items():
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {name!r} must be a mapping keyed by rule id (or by the pack's word)")
    return found


def durations(path: Path, section: str, mapping: dict[Any, Any]) -> dict[str, FixedDuration]:
    """Each value of a settings section read as a fixed duration; a wrong one names the file and the key."""
    from pydantic import ValidationError

    from .pack._types import FixedDuration

    found: dict[str, FixedDuration] = {}
    for key, value in mapping.items():
        try:
            found[str(key)] = FixedDuration.model_validate(value)
        except ValidationError as exc:
            raise ConfigError(f"{path}: {section}.{key}: {exc.errors()[0]['msg']} "
                              "(e.g. {value: 30, unit: calendar_days})") from None
    return found
