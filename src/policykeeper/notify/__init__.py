"""Sending messages to people: email over SMTP.

Message bodies may hold personal values (a one-time code, an address); they are never logged. Only the fact that a
message of a given kind went out is recorded, in the audit log, by the caller.
"""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import urlsplit

from .._exceptions import ConfigError

__all__ = [
    "ENV_MAIL_FROM",
    "ENV_SMTP_URL",
    "EmailTransport",
    "LEASE",
    "Mailer",
    "PERSON",
    "PERSON_CHANNELS",
    "PUBLIC_CHANNELS",
    "RecipientTransport",
    "RoutedTransport",
    "SmtpMailer",
    "WebhookTransport",
    "dead_letters",
    "deliver",
    "enqueue",
    "enqueue_to_person",
    "message_key",
    "requeue",
    "require_transports",
]

ENV_SMTP_URL = "POLICYKEEPER_SMTP_URL"
ENV_MAIL_FROM = "POLICYKEEPER_MAIL_FROM"


class Mailer(Protocol):
    """Anything that can send one plain-text email."""

    def send(self, to: str, subject: str, body: str, *, message_id: str | None = None) -> None:
        """``message_id``, when given, is the message's idempotency key (its ``Message-ID``): the same on a retry."""
        ...


@dataclass(frozen=True)
class SmtpMailer:
    """Plain SMTP (with STARTTLS when the server offers it and ``starttls`` is set)."""

    host: str
    port: int = 25
    sender: str = "privacy@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0

    @staticmethod
    def from_url(url: str | None = None, sender: str | None = None) -> SmtpMailer:
        """From ``smtp://[user:password@]host[:port]`` or ``smtp+starttls://...`` ($POLICYKEEPER_SMTP_URL)."""
        url = url or os.environ.get(ENV_SMTP_URL)
        if not url:
            raise ConfigError(f"no mail server: set {ENV_SMTP_URL}, e.g. smtp://localhost:25")
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtp+starttls") or not parts.hostname:
            raise ConfigError(f"{ENV_SMTP_URL} must look like smtp://host:port, not {url!r}")
        return SmtpMailer(
            host=parts.hostname, port=parts.port or 25, sender=sender or os.environ.get(ENV_MAIL_FROM) or "privacy@localhost",
            username=parts.username, password=parts.password, starttls=parts.scheme == "smtp+starttls",
        )

    def send(self, to: str, subject: str, body: str, *, message_id: str | None = None) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        if message_id:
            msg["Message-ID"] = f"<{message_id}@{self.sender.rpartition('@')[2] or 'localhost'}>"
        msg.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise ConfigError(f"the mail server {self.host}:{self.port} did not take the message: "
                              f"{type(exc).__name__}") from None


from ._outbox import (  # noqa: E402
    LEASE,
    PERSON,
    PERSON_CHANNELS,
    PUBLIC_CHANNELS,
    EmailTransport,
    RecipientTransport,
    RoutedTransport,
    WebhookTransport,
    dead_letters,
    deliver,
    enqueue,
    enqueue_to_person,
    message_key,
    requeue,
    require_transports,
)
