"""Published versions of the pack: list, publish, notices."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from .._errors import ApiError
from ._common import (
    Body,
    CanVersionsPublish,
    CanVersionsRead,
    Ctx,
    When,
    aware,
    iso,
)

router = APIRouter()


MAX_PACK_YAML = 2_000_000
"""Largest pack text ``POST /v1/versions`` takes, in characters (its body limit is raised to match)."""


class ChangeOut(BaseModel):
    kind: str
    path: str
    description: str
    trigger: str | None
    significant: bool


class VersionOut(BaseModel):
    label: str
    notice_at: str
    effective_at: str
    significant: bool
    published_by: str
    channels: list[str]
    changes: list[ChangeOut]


@router.get("/versions", response_model=list[VersionOut], tags=["lifecycle"])
def list_versions(ctx: Ctx, staff: CanVersionsRead) -> list[dict[str, Any]]:
    """The published versions of the pack, oldest first (empty until a first new version is published)."""
    from ...versions import versions

    out = []
    for v in versions(ctx.engine()):
        changes = v["changes"] if isinstance(v["changes"], dict) else {}
        out.append({"label": v["label"], "notice_at": iso(v["notice_at"]), "effective_at": iso(v["effective_at"]),
                    "significant": bool(v["significant"]), "published_by": str(v["published_by"]),
                    "channels": [str(c) for c in changes.get("channels", [])],
                    "changes": [{k: c.get(k) for k in ("kind", "path", "description", "trigger", "significant")}
                                for c in changes.get("items", [])]})
    return out


class PublishIn(Body):
    pack_yaml: Annotated[str, Field(min_length=1, max_length=MAX_PACK_YAML,
                                    description="The new version of the pack, as YAML.")]
    effective_at: When | None = Field(default=None, description="Default: the version's own effective date, or now.")
    notice_at: When | None = Field(default=None, description="When people are told; default now.")
    explicit_consent: bool = Field(default=False, description="Acknowledge that a version reducing rights applies "
                                                              "to each person only once they explicitly agree.")


class PublishedOut(BaseModel):
    label: str
    notice_at: str
    effective_at: str
    significant: bool
    changes: list[ChangeOut]
    channels: list[str]
    emails: int
    unreachable: int
    explicit_consent_required: bool
    published_url: str | None
    promises: list[str]


@router.post("/versions", status_code=201, response_model=PublishedOut, tags=["lifecycle"])
def publish_version(body: PublishIn, ctx: Ctx, staff: CanVersionsPublish) -> dict[str, Any]:
    """Publish a new version of the pack: its diff, the pack's change rules (dates, advance notice, rights) and its
    notices (emails go through the outbox)."""
    from ..._exceptions import PackError
    from ...pack import parse_pack
    from ...versions import publish

    try:
        new = parse_pack(body.pack_yaml, "pack_yaml")
    except PackError as exc:
        first = exc.issues[0] if exc.issues else exc.message
        raise ApiError(422, exc.code, str(first), "body.pack_yaml") from None
    got = publish(ctx.engine(), new, effective_at=aware(body.effective_at), notice_at=aware(body.notice_at),
                  explicit_consent=body.explicit_consent, actor=f"key:{staff.key_id}")
    return {"label": got.label, "notice_at": iso(got.notice_at), "effective_at": iso(got.effective_at),
            "significant": got.significant,
            "changes": [{"kind": c.kind, "path": c.path, "description": c.description, "trigger": c.trigger,
                         "significant": c.significant} for c in got.changes],
            "channels": list(got.channels), "emails": got.emails, "unreachable": got.unreachable,
            "explicit_consent_required": got.explicit_consent_required, "published_url": got.published_url,
            "promises": list(got.promises)}


class NoticeOut(BaseModel):
    label: str
    notice: str


@router.get("/versions/{label}/notice", response_model=NoticeOut, tags=["lifecycle"])
def version_notice(label: Annotated[str, Field(min_length=1, max_length=64)], ctx: Ctx,
                   staff: CanVersionsRead) -> dict[str, str]:
    """The notice text of a published version (what changes, when it takes effect); no personal data."""
    from ..._exceptions import BadValueError
    from ...versions import notice_for

    try:
        return {"label": label, "notice": notice_for(ctx.engine(), label)}
    except BadValueError:
        raise ApiError(404, "not_found", f"no version {label!r} was published") from None
