"""Retention: the end of each retention period, enforced by a sweep.

Each retention rule of the pack says which categories it governs, when its period starts (collection, a
transaction, the end of a purpose, the cancellation of the account, the end of the service, or the person's own
"clear" action), how long it runs and what happens at the end (delete, anonymise, restrict access, or keep as a
record). Events that start a period are written to ``lifecycle_events`` as they happen (:func:`end_purpose`,
:func:`cancel_account`, :func:`cease_service`); :func:`sweep` then applies every end action that is due.

How the sweep works:

* **Set-based.** Each rule is one statement per window of record ids (``batch`` ids wide), never one per row. A
  window is one transaction holding the change and its audit entry, so a crash loses nothing and a re-run only
  does what is still due.
* **Legal holds win.** A record under a legal hold (:func:`place_legal_hold`) is never swept; the run counts it.
* **No personal values.** Runs (``retention_runs``) and audit entries hold rule ids, counts and the action taken.
* **The most specific rule governs.** A category a rule names explicitly is not swept by a rule for ``all``
  categories; a rule that keeps a category as a record (KOKKOK's payment records) exempts it from purpose-end sweeps.
* **Open-ended periods need a number.** "As long as necessary" runs until the event that ends it (the purpose's
  end, the cancellation); "a reasonable period" is :data:`DEFAULT_PERIODS` unless configured; "as the law
  requires" is never swept automatically unless the operator configures a period for that rule.
* **No run left "running".** A run records its process (host, pid and the pid's start time) and a heartbeat with
  every window; a run that raises is marked failed, and the next sweep marks a run whose process is gone (or that
  has not been heard from for :data:`STALE_AFTER`) failed too, taken over by itself, which does what is left.
* **Anonymisation** turns the records into counts per category and month (``anonymous_aggregates``) and deletes them:
  what is left has no person behind it.
"""

from __future__ import annotations

from ._cessation import cease_service
from ._clear import clear_history, history_cleared
from ._events import cancel_account, cancel_account_subject, check_account, end_purpose
from ._holds import place_legal_hold, release_legal_hold
from ._plans import CESSATION as CESSATION
from ._plans import DEFAULT_PERIODS, END_ACTIONS
from ._plans import Action as Action
from ._plans import _plans as _plans  # the privacy center's closing schedule reads the sweep's plans
from ._sweep import STALE_AFTER as STALE_AFTER
from ._sweep import Progress as Progress
from ._sweep import RuleOutcome, SweepReport, sweep

__all__ = [
    "DEFAULT_PERIODS",
    "END_ACTIONS",
    "RuleOutcome",
    "SweepReport",
    "cancel_account",
    "cancel_account_subject",
    "cease_service",
    "check_account",
    "clear_history",
    "end_purpose",
    "history_cleared",
    "place_legal_hold",
    "release_legal_hold",
    "sweep",
]

