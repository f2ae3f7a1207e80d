"""What the web app runs on: the database, the keys, the pack in force, a mailer, and its limits."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from .._exceptions import BadValueError
from .._settings import Settings
from ..clock import Clock, system
from ..connectors import DatasetMap, load_dataset_map, open_target
from ..crypto import KeyRing
from ..engine import PolicyEngine
from ..notify import ENV_SMTP_URL, Mailer, SmtpMailer
from ..organisation import load_recurrence
from ..pack import Pack, load_pack
from ..pack._types import FixedDuration
from ..requests import RequestService, load_deadlines
from ..store import open_database
from ..versions import engine_at
from ._brand import Branding, load_branding
from ._site import ConsentSite, load_site_settings

__all__ = ["ENV_PUBLIC_URL", "MemoryMailer", "WebContext"]

ENV_PUBLIC_URL = "POLICYKEEPER_PUBLIC_URL"
ENV_DATASET = "POLICYKEEPER_DATASET"
"""A dataset map (Fides YAML) of a company database, for the web processes of ``serve --workers N --dataset``."""
ENV_DATASET_URL = "POLICYKEEPER_DATASET_URL"
"""That company database's SQLAlchemy URL."""


@dataclass
class MemoryMailer:
    """Holds the last messages in memory (never on disk, never in logs) when no mail server is configured, so a
    newcomer running ``policykeeper serve`` can read their sign-in code in the admin console's mailbox."""

    limit: int = 50
    messages: deque[dict[str, str]] = field(default_factory=deque)
    clock: Clock = system
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, to: str, subject: str, body: str, *, message_id: str | None = None) -> None:
        with self._lock:
            self.messages.appendleft({"to": to, "subject": subject, "body": body,
                                      "at": self.clock.now().isoformat(timespec="seconds")})
            while len(self.messages) > self.limit:
                self.messages.pop()


@dataclass
class WebContext:
    """Everything a request handler needs; one per app."""

    db: Engine
    keys: KeyRing
    pack: Pack
    mailer: Mailer | MemoryMailer
    public_url: str = "http://127.0.0.1:8000"
    region: str | None = None
    max_body: int = 1_000_000
    """Largest request body accepted, in bytes (larger ones get 413 before they are read)."""
    max_pack_body: int = 2_200_000
    """Largest body of ``POST /v1/versions`` (a whole pack as YAML), in bytes."""
    session_ttl: dt.timedelta = dt.timedelta(hours=2)
    deadlines: dict[str, FixedDuration] = field(default_factory=dict)
    """Request deadlines the pack leaves to the law, as the operator states them (HOME/requests.yaml)."""
    recurrence: dict[str, FixedDuration] = field(default_factory=dict)
    """How often staff training recurs where the pack leaves it unspecified (HOME/organisation.yaml)."""
    secure_cookies: bool = False
    consent_site: ConsentSite = field(default_factory=ConsentSite)
    """Origins allowed to call the consent script's endpoints, and their rate limit (HOME/consent.yaml)."""
    databases: tuple[tuple[DatasetMap, Engine], ...] = ()
    """The company's own databases (a dataset map and an engine each): access and erasure reach them too."""
    branding: Branding = field(default_factory=Branding)
    """The operator's name, logo and accent colour on every page (HOME/branding.yaml)."""
    _base: PolicyEngine | None = None
    _engines: dict[str, PolicyEngine] = field(default_factory=dict)

    @staticmethod
    def from_settings(settings: Settings, *, mailer: Mailer | MemoryMailer | None = None,
                      create_keys: bool = False) -> WebContext:
        """Open the database and the keystore the settings name (creating the keystore on first run if asked)."""
        if create_keys and not (settings.keystore / "master").exists() and not settings.keystore.exists():
            KeyRing.init(settings.keystore)
        if mailer is None:
            mailer = SmtpMailer.from_url() if os.environ.get(ENV_SMTP_URL) else MemoryMailer()
        public = os.environ.get(ENV_PUBLIC_URL) or "http://127.0.0.1:8000"
        return WebContext(db=open_database(settings.database_url), keys=KeyRing.open(settings.keystore),
                          pack=load_pack(settings.pack), mailer=mailer, public_url=public.rstrip("/"),
                          region=settings.region, secure_cookies=public.startswith("https://"),
                          deadlines=load_deadlines(settings.home / "requests.yaml"),
                          consent_site=load_site_settings(settings.home),
                          recurrence=load_recurrence(settings.home / "organisation.yaml"),
                          branding=load_branding(settings.home),
                          databases=company_databases(os.environ.get(ENV_DATASET), os.environ.get(ENV_DATASET_URL)))

    @property
    def clock(self) -> Clock:
        """The engines' clock: where the web layer reads "now" (sessions, codes, keys, abuse limits)."""
        return self._base_engine().clock

    def _base_engine(self) -> PolicyEngine:
        if self._base is None:
            self._base = PolicyEngine(self.pack, self.db, self.keys, region=self.region)
        return self._base

    def engine(self, now: dt.datetime | None = None) -> PolicyEngine:
        """The engine for the version of the pack in force (a published version takes over on its effective date)."""
        eng = engine_at(self._base_engine(), now)
        label = eng.pack.version.label
        if label not in self._engines:  # keep one engine per version: they cache what they look up
            self._engines[label] = eng
        return self._engines[label]

    def requests(self, now: dt.datetime | None = None) -> RequestService:
        svc = RequestService(self.engine(now), self.mailer, deadlines=self.deadlines, databases=self.databases)
        svc.center_url = self.public_url
        return svc

    def info(self) -> dict[str, Any]:
        eng = self.engine()
        return {"pack": eng.pack.id, "version": eng.pack.version.label, "name": eng.pack.name,
                "database": self.db.dialect.name}


def company_databases(dataset: str | None, url: str | None) -> tuple[tuple[DatasetMap, Engine], ...]:
    """The company database a dataset map and its URL name (none when neither is given); one without the other is
    refused."""
    if (dataset is None) != (url is None):
        raise BadValueError("a company database needs both its dataset map and its URL (--dataset and --dataset-url)")
    if dataset is None or url is None:
        return ()
    return ((load_dataset_map(Path(dataset)), open_target(url)),)
