"""Data subject requests: received, identity verified by a one-time code over email, then fulfilled or refused.

A request is pinned to the pack version it was received under and gets its deadline from that pack (calendar or
business days, from receipt or from verification, as the pack says; symbolic deadlines such as "per applicable law"
are kept as words and not tracked as a date). The reply address is encrypted under a key of the request's own, so
erasing the person destroys it too. Every transition is one transaction and is audited without personal values;
every step can be run again after a crash without doing anything twice.

States: ``received`` -> ``verified`` -> ``fulfilled`` | ``refused``; ``extended`` pushes the deadline where the
pack allows it. A person signed in to the privacy center is already proven (their session was opened with a code
sent to an address held for them): their request is verified on receipt where the pack's verification rule accepts a
login, with no second code. What the person says with a request (:class:`RequestContent`) and staff notes are kept
encrypted under the request's key; the audit log holds every step and says only that they exist.
"""

from __future__ import annotations

from ._base import CODE_TTL, MAX_ATTEMPTS, Ticket
from ._casework import _Casework
from ._content import MAX_NOTE, MAX_STAFF_NOTE, MAX_VALUE, RequestContent, mask_address, mask_value
from ._deadlines import load_deadlines
from ._erasure import _Erasure
from ._fulfil import _Fulfilment
from ._queue import STATUSES, QueuePage, QueueQuery, TimelineEvent
from ._submit import _Submission
from ._verify import _Verification

__all__ = ["CODE_TTL", "MAX_ATTEMPTS", "MAX_NOTE", "MAX_STAFF_NOTE", "MAX_VALUE", "STATUSES", "QueuePage", "QueueQuery",
           "RequestContent", "RequestService", "Ticket", "TimelineEvent", "load_deadlines", "mask_address",
           "mask_value"]


class RequestService(_Submission, _Verification, _Fulfilment, _Erasure, _Casework):
    """Requests against one engine's pack, database and keystore; emails go through ``mailer``.

    Each step lives in a module of its own: receiving (``_submit``), verifying the requester (``_verify``),
    answering (``_fulfil``), erasing (``_erasure``), staff's work on an open request (``_casework``); what they share
    in ``_base``, deadlines in ``_deadlines``, what the person is told in ``_letters``, storage in
    ``store.requests_repo``."""
