"""The ``policykeeper`` command line. Library errors become clean messages here, and only here: every command is
registered on an ``_App``, which wraps it in ``_translating`` (``_base.py``).

One module per command group: ``_pack`` (pack), ``_keys`` (keys, audit, backup, restore), ``_consent`` (consent,
transfer, fact, deletions), ``_request`` (request, dataset), ``_jobs`` (outbox, retention, worker), ``_marketing``
(marketing, tracker), ``_incident`` (incident), ``_serve`` (serve, demo, apikey, bench), ``_organisation``
(organisation) and ``_records`` (records). Each imports what its commands use inside them, so that starting the CLI
stays cheap (tests/test_cli_start.py)."""

from __future__ import annotations

# the help lists the top-level commands in the order these modules register them:
# isort: off
from . import _pack, _keys, _consent, _request, _jobs, _marketing, _incident, _serve, _organisation, _records  # noqa: F401
# isort: on
from ._base import _App as _App
from ._base import _fail as _fail
from ._base import _translating as _translating
from ._base import app
from ._request import _requests as _requests  # tests/crash/erase_worker.py opens the request service as the CLI does
from ._serve import tcp_listener as tcp_listener

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``policykeeper`` console script."""
    app()
