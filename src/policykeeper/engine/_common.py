"""What the engine's services share: the results of an action, the actor check, a denial as an error."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._exceptions import BadValueError, DeniedError
from ._types import Decision, Facts, Obligation

NO_FACTS = Facts()

KEY = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
"""An id a caller may name (a source, a party, a register argument, a new purpose)."""


@dataclass(frozen=True)
class Collected:
    """What a collection stored: the decision, the subject's pseudonymous id, the record ids, dropped fields."""

    decision: Decision
    subject_id: str
    record_ids: tuple[int, ...]

    @property
    def obligations(self) -> tuple[Obligation, ...]:
        """What the decision obliges (see :class:`Obligation`): the caller's to show or do, or done by the engine."""
        return self.decision.obligations


class Released(dict[str, list[str]]):
    """The values a read or share released (category -> values), with the decision that allowed them: its
    ``obligations`` are the caller's to carry out where ``by`` is ``caller`` (they are audited as handed over)."""

    decision: Decision

    @property
    def obligations(self) -> tuple[Obligation, ...]:
        return self.decision.obligations


class NotCollectedFor(Exception):
    """Every value asked for was collected for other purposes than the one reading it."""

    def __init__(self, purpose: str, withheld: int) -> None:
        super().__init__(purpose)
        self.withheld = withheld


def check_actor(actor: str) -> None:
    """Need to know: every access names who (a role or service) is doing it."""
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 64:
        raise BadValueError("every access must name its actor (a role or service, 1 to 64 characters)")


def denied(d: Decision) -> DeniedError:
    """The error for a denial: the first reason, its rule and promises."""
    first = d.denials[0]
    refs = f" ({', '.join(first.promises)})" if first.promises else ""
    return DeniedError(f"{first.message} [rule {first.rule}]{refs}", d)
