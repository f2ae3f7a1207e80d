"""Marketing and tracking: who may get promotional messages, how they stop them, and which trackers may be set.

A person's marketing choice lives in the consent ledger under the target ``"marketing"``. Where the pack's basis is
``opt_in`` (KOSO) marketing needs a recorded 'given'; where it is ``opt_out`` (KOKKOK, Kamoer) it goes until the
person withdraws; a pack without a marketing basis gets no marketing at all. Every marketing message carries a
signed, expiring unsubscribe link; service messages never need consent and carry no link. Messages are written to
the outbox (delivered later by :func:`policykeeper.notify.deliver`) and classed in ``message_log``, never with their
content. Trackers (cookies, beacons, pixels...) are registered against the pack's closed lists and chosen per
visitor from the purposes they refused. Every change is one transaction and is audited without personal values.
"""

from ._common import MARKETING
from ._common import _rule as _rule  # the privacy center's GPC signal (web/_site.py) uses these two
from ._common import _withdraw as _withdraw
from ._messages import ENV_PUBLIC_URL, check_display, send_message
from ._messages import MessageKind as MessageKind
from ._messages import Source as Source
from ._preferences import (
    UNSUBSCRIBE_TOKEN_LIFETIME,
    gpc_opt_out,
    marketing_allowed,
    set_marketing_preference,
    unsubscribe,
    unsubscribe_token,
)
from ._trackers import TrackerChoice, list_trackers, register_tracker, trackers_for, tracking_allowed

__all__ = [
    "ENV_PUBLIC_URL",
    "MARKETING",
    "TrackerChoice",
    "UNSUBSCRIBE_TOKEN_LIFETIME",
    "check_display",
    "gpc_opt_out",
    "list_trackers",
    "marketing_allowed",
    "register_tracker",
    "send_message",
    "set_marketing_preference",
    "trackers_for",
    "tracking_allowed",
    "unsubscribe",
    "unsubscribe_token",
]

