"""The REST API, versioned under ``/v1``: one router per resource, assembled here.

People (a session opened with an emailed code) reach ``/v1/session`` and ``/v1/me/...``: their own data, consents
and requests, never anyone else's. Staff and services (an API key bound to a role) reach the rest, each operation
guarded by one permission (see :data:`policykeeper.web._auth.ROLES`). A person's identifier travels only in request
bodies, never in a URL, so it never lands in an access log.

Where a resource lives: ``_public`` (health, policy), ``_session`` (sign in and out), ``_me`` (a person's own data,
consents, requests, profile), ``_engine`` (collect, read, share), ``_consents``, ``_facts``, ``_requests`` (the
staff's queue and decisions), ``_audit``, ``_keys``, ``_retention``, ``_versions``, ``_incidents``, ``_evidence`` (data
map, promises), ``_outbox`` and ``_organisation``; the shared field types, permissions and helpers in ``_common``.
"""

from __future__ import annotations

from fastapi import APIRouter

from .._errors import ERROR_RESPONSES
from . import (
    _audit,
    _consents,
    _engine,
    _evidence,
    _facts,
    _incidents,
    _keys,
    _me,
    _organisation,
    _outbox,
    _public,
    _requests,
    _retention,
    _session,
    _versions,
)

__all__ = ["router"]

RESOURCES = (_public, _session, _me, _engine, _consents, _facts, _requests, _audit, _keys, _retention, _versions,
             _incidents, _evidence, _outbox, _organisation)
"""Every resource's module, in the order its operations appear in the OpenAPI document."""

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
for _resource in RESOURCES:
    router.include_router(_resource.router)
