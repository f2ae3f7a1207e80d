"""Which of a pack's promises its rules encode, computed from the pack alone."""

from __future__ import annotations

from dataclasses import dataclass

from ._checks import promise_references
from ._model import Pack

__all__ = ["Coverage", "coverage"]


@dataclass(frozen=True)
class Coverage:
    """Promises declared by a pack and the rules that reference each."""

    total: int
    encoded: tuple[str, ...]
    missing: tuple[str, ...]
    rules: dict[str, tuple[str, ...]]
    """Promise ID -> the pack locations (dotted paths) of the rules that name it."""

    @property
    def complete(self) -> bool:
        return not self.missing

    def summary(self) -> str:
        return f"promises: {len(self.encoded)}/{self.total} encoded"


def coverage(pack: Pack) -> Coverage:
    """Compute which declared promises at least one rule names."""
    where: dict[str, list[str]] = {p.id: [] for p in pack.promises}
    for loc, pid in promise_references(pack):
        path = ".".join(str(part) for part in loc[:-2])
        if pid in where and path not in where[pid]:
            where[pid].append(path)
    order = [p.id for p in pack.promises]
    return Coverage(
        total=len(order),
        encoded=tuple(pid for pid in order if where[pid]),
        missing=tuple(pid for pid in order if not where[pid]),
        rules={pid: tuple(where[pid]) for pid in order},
    )
