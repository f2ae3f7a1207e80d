"""Where policykeeper keeps its state: a home directory, a database URL and a keystore."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_PACK", "ENV_DATABASE_URL", "ENV_HOME", "ENV_PACK", "ENV_REGION", "Settings"]

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
