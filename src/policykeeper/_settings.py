"""Where policykeeper keeps its state: a home directory, a database URL and a keystore."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ENV_DATABASE_URL", "ENV_HOME", "Settings"]

ENV_HOME = "POLICYKEEPER_HOME"
ENV_DATABASE_URL = "POLICYKEEPER_DATABASE_URL"


@dataclass(frozen=True)
class Settings:
    """The home directory (default ``~/.policykeeper``), the database (default a SQLite file in it) and the keystore."""

    home: Path
    database_url: str
    keystore: Path

    @staticmethod
    def load(home: Path | None = None, database_url: str | None = None) -> Settings:
        root = Path(home or os.environ.get(ENV_HOME) or Path.home() / ".policykeeper").expanduser()
        url = database_url or os.environ.get(ENV_DATABASE_URL) or f"sqlite:///{root / 'policykeeper.db'}"
        return Settings(home=root, database_url=url, keystore=root / "keys")
