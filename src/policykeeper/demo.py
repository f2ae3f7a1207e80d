"""Synthetic demo data: realistic, made-up people for a first look at the admin console and the API.

:func:`fill_demo` collects about 25 people through the pack's own collection contexts (with plausible values for
each data category), gives and withdraws consents over the past weeks, submits data subject requests in various
states (some dated in the past, so that where the pack sets a fixed deadline some are overdue), and records one
security incident. Everything goes through the engine, so the pack's rules apply and the audit log records it. A
fixed random seed makes the data the same on every database; a second run finds the first (its marker person) and
adds nothing. Every address is on ``example.com``, every phone number and card is fictitious, and no message leaves
the process: the caller passes an in-memory mailer.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._exceptions import PolicykeeperError, SubjectNotFoundError
from .engine import Facts, PolicyEngine
from .notify import Mailer
from .pack._data import CollectionContext
from .pack._types import FixedDuration
from .requests import RequestService
from .store import bench as bench_store

LAW_DEADLINE_EXAMPLE = FixedDuration(value=30, unit="calendar_days")
"""What the demo writes to HOME/requests.yaml for a pack that leaves request deadlines to the applicable law: an
example only, for the operator to replace with what their law requires."""

__all__ = ["DEMO_PREFIX", "LAW_DEADLINE_EXAMPLE", "DemoSummary", "demo_present", "fill_demo"]

DEMO_PREFIX = "demo-"
"""Every demo person's identifier starts with this; the first one (``demo-01``) marks the demo as present."""

SEED = 20250602

_FIRST = ["Anousone", "Bounmy", "Chanthala", "Daovone", "Khamla", "Manivanh", "Noy", "Phonsavanh", "Somchai",
          "Vilayphone", "Wei", "Li Na", "Zhang Min", "Chen Jie", "Hsu Mei", "Lin Hao", "Maria", "Jonas", "Amara",
          "Kenji", "Sofia", "Ravi", "Nadia", "Tomas", "Aiko"]
_LAST = ["Sisouk", "Phommachanh", "Keomany", "Vongsa", "Inthavong", "Wang", "Li", "Zhang", "Chen", "Lin", "Huang",
         "Garcia", "Novak", "Okafor", "Tanaka", "Silva", "Sharma", "Haddad", "Berg", "Sato"]
_STREETS = ["Lane Xang Ave", "Samsenthai Rd", "Nanjing Rd", "Zhongshan Rd", "Riverside Rd", "Market St", "Mekong Quay"]
_CARS = ["Toyota Vios 2018", "Honda City 2020", "Hyundai Accent 2019", "Kia Morning 2017", "Ford Ranger 2021",
         "Mazda 2 2016", "Nissan Almera 2022"]
_PHONE_PREFIX = {"kokkok": "+856 20", "kamoer": "+86 139", "kalos": "+86 138", "konzen": "+86 137", "koso": "+886 9"}


@dataclass
class DemoSummary:
    """What a demo run created (counts only), or that the demo was already there."""

    pack: str
    already_there: bool = False
    people: int = 0
    records: int = 0
    contexts: Counter[str] = field(default_factory=Counter)
    consents_given: int = 0
    consents_withdrawn: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    overdue: int = 0
    fixed_deadline: bool = False
    incident: int | None = None
    sign_ins: list[tuple[str, str]] = field(default_factory=list)
    """A few demo people who can sign in to the privacy center: (identifier, email address held for them)."""

    def lines(self) -> list[str]:
        if self.already_there:
            return [f"the demo data is already there ({self.people} demo people in the {self.pack} pack); "
                    "nothing was added"]
        out = [f"demo data for the {self.pack} pack:",
               f"people: {self.people} ({self.records} records; contexts: "
               + ", ".join(f"{k} {v}" for k, v in sorted(self.contexts.items())) + ")",
               f"consents: {self.consents_given} given, {self.consents_withdrawn} withdrawn (over the past weeks)",
               "requests: " + (", ".join(f"{k} {v}" for k, v in sorted(self.requests.items())) or "none")]
        if self.fixed_deadline:
            out.append(f"overdue requests: {self.overdue}")
        else:
            out.append("overdue requests: none (this pack sets no fixed deadline for requests, so none can be overdue)")
        out.append(f"security incident: {self.incident}" if self.incident is not None else "security incident: none")
        if self.sign_ins:
            out.append("sign in to the privacy center (/) as one of these demo people (identifier and email; the code "
                       "goes to the console's mailbox when serve has no SMTP server):")
            out += [f"  identifier {who}  email {email}" for who, email in self.sign_ins]
        return out


def demo_present(eng: PolicyEngine) -> int:
    """How many demo people the database holds for the engine's pack (0: no demo yet). Looks for the marker person."""
    if not _held(eng, f"{DEMO_PREFIX}01"):
        return 0
    return sum(1 for i in range(1, 100) if _held(eng, f"{DEMO_PREFIX}{i:02d}"))


def _held(eng: PolicyEngine, external_id: str) -> bool:
    """Does the engine hold data about this person? (Asking for their consents answers it: the engine has no
    public "is this person held" of its own.)"""
    try:
        eng.consents(external_id)
    except SubjectNotFoundError:
        return False
    return True


# -- values ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Person:
    external_id: str
    first: str
    last: str
    email: str
    phone: str
    born: dt.date


def _people(pack_id: str, n: int, rng: random.Random) -> list[_Person]:
    out = []
    prefix = _PHONE_PREFIX.get(pack_id, "+1 555")
    for i in range(1, n + 1):
        first, last = _FIRST[(i - 1) % len(_FIRST)], rng.choice(_LAST)
        handle = re.sub(r"[^a-z]", "", first.lower())
        out.append(_Person(f"{DEMO_PREFIX}{i:02d}", first, last, f"{handle}.{last.lower()}{i}@example.com",
                           f"{prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                           dt.date(rng.randint(1962, 2003), rng.randint(1, 12), rng.randint(1, 28))))
    return out


def _value(category: str, name: str, p: _Person, rng: random.Random) -> str:
    """A plausible value for a data category, by its id (or a labelled sample where nothing fits)."""
    c = category.lower()
    table: list[tuple[str, Callable[[], str]]] = [
        ("email_tracking", lambda: f"opened newsletter {rng.randint(1, 40)} at {rng.randint(7, 22)}:00"),
        ("email", lambda: p.email),
        ("phone", lambda: p.phone),
        ("username", lambda: f"{p.first.split()[0].lower()}{p.born.year % 100:02d}"),
        ("password", lambda: f"hash:{uuid.UUID(int=rng.getrandbits(128)).hex[:24]}"),
        ("uuid", lambda: str(uuid.UUID(int=rng.getrandbits(128)))),
        ("date_of_birth", lambda: p.born.isoformat()),
        ("birthday", lambda: p.born.isoformat()),
        ("gender", lambda: rng.choice(["female", "male"])),
        ("mailing_address", lambda: f"{rng.randint(1, 220)} {rng.choice(_STREETS)}"),
        ("id_number", lambda: f"ID{rng.randint(10**9, 10**10 - 1)}"),
        ("bank_card", lambda: f"4000 0000 0000 {rng.randint(1000, 9999)}"),
        ("vehicle", lambda: rng.choice(_CARS)),
        ("ip_address", lambda: f"203.0.113.{rng.randint(1, 254)}"),
        ("app_id", lambda: f"app-{rng.getrandbits(48):012x}"),
        ("push_id", lambda: f"push-{rng.getrandbits(64):016x}"),
        ("cookie", lambda: f"sid={rng.getrandbits(64):016x}"),
        ("browser", lambda: rng.choice(["Chrome 126 on Android 14", "Safari 17 on iOS 17", "Firefox 128 on Windows"])),
        ("device", lambda: rng.choice(["Samsung Galaxy A54", "iPhone 13", "Xiaomi Redmi Note 12", "Oppo A78"])),
        ("location", lambda: f"{rng.uniform(17.9, 18.0):.4f},{rng.uniform(102.55, 102.65):.4f}"),
        ("visit_time", lambda: f"{rng.randint(7, 23)}:{rng.randint(0, 59):02d}"),
        ("access_time", lambda: f"{rng.randint(7, 23)}:{rng.randint(0, 59):02d}"),
        ("name", lambda: f"{p.first} {p.last}"),
        ("interests", lambda: rng.choice(["SUVs", "electric cars", "family cars", "pickups"])),
        ("search", lambda: rng.choice(["toyota vios", "used pickup", "car loan", "test drive"])),
        ("consultation", lambda: rng.choice(["asked about financing", "asked about a test drive", "warranty question"])),
        ("support", lambda: rng.choice(["speedometer flickers", "app does not pair", "firmware update failed"])),
        ("industry", lambda: rng.choice(["aquaculture", "laboratory", "retail", "education"])),
        ("resume", lambda: "CV: 5 years of embedded software"),
    ]
    for key, make in table:
        if key in c:
            return make()
    return f"{name} (sample {rng.randint(1, 999)})"


# -- what a context takes --------------------------------------------------------------------------------------------

def _usable(ctx: CollectionContext) -> bool:
    """A context anyone may be collected in without a feature switched on (no activation, not members only)."""
    return not ctx.member_only and ctx.activation is None and any(
        f.requirement in ("essential", "optional", "auto_collected") for f in ctx.fields)


def _values(eng: PolicyEngine, ctx: CollectionContext, p: _Person, rng: random.Random) -> dict[str, str]:
    out = {}
    emails = eng.email_categories()
    for f in ctx.fields:
        if f.requirement in ("essential", "auto_collected") or (f.requirement == "optional" and (
                f.category in emails or rng.random() < 0.6)):  # an email is always given: it opens the center
            out[str(f.category)] = _value(str(f.category), eng.pack.category(str(f.category)).name, p, rng)
    return out


def _facts(eng: PolicyEngine) -> Facts:
    channels = eng.pack.collection.channels
    channel = channels[0] if not isinstance(channels, str) and channels else None
    return Facts(channel=channel)


def _consent_targets(eng: PolicyEngine) -> list[str]:
    """Targets people may opt in to and out of (opt-in, explicit or separate consents)."""
    out: list[str] = []
    for rule in eng.pack.consents:
        if rule.type in ("opt_in", "explicit", "separate") and rule.targets and rule.withdrawable is True:
            out.append(rule.targets[0])
    return list(dict.fromkeys(out))


def _context_consents(eng: PolicyEngine, ctx: CollectionContext) -> list[str]:
    """Consents a context needs before it collects (e.g. KOKKOK's explicit consent to registration)."""
    wanted = {ctx.id, *ctx.purposes}
    return [t for rule in eng.pack.consents if rule.type in ("explicit", "separate", "opt_in")
            for t in rule.targets if t in wanted]


# -- the run --------------------------------------------------------------------------------------------------------

def fill_demo(eng: PolicyEngine, mailer: Mailer, *, people: int = 25, now: dt.datetime | None = None,
              deadlines: Mapping[str, FixedDuration] | None = None) -> DemoSummary:
    """Fill the database with demo data for the engine's pack (once; a second run adds nothing), dated back from
    ``now`` (default: the engine's clock)."""
    now = eng.clock.at(now)
    summary = DemoSummary(eng.pack.id)
    present = demo_present(eng)
    if present:
        summary.already_there, summary.people = True, present
        return summary
    rng = random.Random(SEED)
    crowd = _people(eng.pack.id, people, rng)
    contexts = [c for c in eng.pack.collection.contexts if _usable(c)]
    primary = [c for c in contexts if any(f.requirement == "essential" for f in c.fields)] or contexts
    with_email = [c for c in primary if any(f.category in eng.email_categories() and f.requirement in (
        "essential", "optional") for f in c.fields)]
    primary = with_email or primary  # everyone joins where an email is taken, so everyone can sign in
    extra = [c for c in contexts if c not in primary]
    collected: list[_Person] = []
    for i, p in enumerate(crowd):
        joined = now - dt.timedelta(days=rng.randint(30, 60), hours=rng.randint(0, 23))
        order = [primary[i % len(primary)], *[c for c in primary if c is not primary[i % len(primary)]]]
        done = False
        for ctx in order:  # the first context the pack accepts this person in
            if _collect(eng, ctx, p, rng, joined, summary):
                done = True
                break
        if not done:
            continue
        collected.append(p)
        for ctx in extra:
            if rng.random() < 0.5:
                _collect(eng, ctx, p, rng, joined + dt.timedelta(days=rng.randint(1, 10)), summary)
    summary.people = len(collected)
    if not collected:
        return summary
    _consents(eng, collected, rng, now, summary)
    _requests(eng, mailer, collected, rng, now, summary, deadlines or {})
    _incident(eng, now, summary)
    summary.sign_ins = [(p.external_id, p.email) for p in collected if eng.holds_contact(p.external_id, p.email)][:3]
    with eng.db.connect() as conn:
        summary.records = bench_store.records_of_pack(conn, eng.pack.id)
    return summary


def _collect(eng: PolicyEngine, ctx: CollectionContext, p: _Person, rng: random.Random, at: dt.datetime,
             summary: DemoSummary) -> bool:
    values = _values(eng, ctx, p, rng)
    if not values:
        return False
    try:
        for target in _context_consents(eng, ctx):
            eng.set_consent(p.external_id, target, "given", actor="subject", now=at - dt.timedelta(minutes=1))
        eng.collect(p.external_id, ctx.id, values, _facts(eng), actor="app", now=at)
    except PolicykeeperError:
        return False
    summary.contexts[ctx.id] += 1
    return True


def _consents(eng: PolicyEngine, crowd: list[_Person], rng: random.Random, now: dt.datetime,
              summary: DemoSummary) -> None:
    targets = _consent_targets(eng)
    if not targets:
        return
    for p in crowd:
        for target in targets:
            if rng.random() >= 0.45:
                continue
            given = now - dt.timedelta(days=rng.randint(10, 28), hours=rng.randint(0, 23))
            try:
                eng.set_consent(p.external_id, target, "given", actor="subject", now=given)
                summary.consents_given += 1
                if rng.random() < 0.35:
                    eng.set_consent(p.external_id, target, "withdrawn", actor="subject",
                                    now=given + dt.timedelta(days=rng.randint(2, 9)))
                    summary.consents_withdrawn += 1
            except PolicykeeperError:
                continue


_RIGHTS = ("access", "delete", "correct", "copy", "portability", "restrict", "object")


def _code(mailer: Mailer, address: str) -> str | None:
    messages: Any = getattr(mailer, "messages", ())
    for m in messages:  # newest first
        if m.get("to") == address:
            found = re.search(r"Your code is (\d{6})", m.get("body", ""))
            return found.group(1) if found else None
    return None


def _requests(eng: PolicyEngine, mailer: Mailer, crowd: list[_Person], rng: random.Random, now: dt.datetime,
              summary: DemoSummary, deadlines: Mapping[str, FixedDuration]) -> None:
    svc = RequestService(eng, mailer, deadlines=deadlines)
    granted = [] if isinstance(eng.pack.rights, str) else [r.type for r in eng.pack.rights]
    rights = [r for r in _RIGHTS if r in granted]
    handling = eng.pack.requests
    methods = () if isinstance(handling, str) or isinstance(handling.verification, str) \
        else handling.verification.methods
    grounds = ["identity_not_verified"]
    if not isinstance(handling, str) and not isinstance(handling.refusal, str):
        grounds = list(handling.refusal.discretionary) or grounds
    has_email = bool(eng.email_categories())
    # (days ago, what happens): three long ago and left open (overdue where the pack has a fixed deadline), some
    # recent and open, one fulfilled, one refused, one never confirmed.
    plan = [(50, "open"), (44, "open"), (38, "open"), (12, "open"), (5, "open"), (3, "unconfirmed"), (2, "open"),
            (20, "fulfilled"), (15, "refused"), (1, "unconfirmed")]
    people = rng.sample(crowd, min(len(plan), len(crowd)))
    for (days, fate), p in zip(plan, people, strict=False):
        at = now - dt.timedelta(days=days, hours=rng.randint(1, 8))
        right = rng.choice(rights) if rights else None
        kind = "rights_request" if right else "general_question"
        if fate == "fulfilled" and "access" in rights:
            right = "access"
        email = p.email if has_email else f"{p.external_id}@example.com"
        try:
            ticket = svc.submit(p.external_id, right, email=email, kind=kind, now=at)
        except PolicykeeperError:
            continue
        status = "received"
        if fate != "unconfirmed":
            status = _verify(svc, mailer, ticket.ref, email, methods, at + dt.timedelta(minutes=5)) or status
        try:
            if fate == "fulfilled" and status == "verified" and right == "access":
                svc.fulfil_access(ticket.ref, None, actor="privacy_officer", now=at + dt.timedelta(days=2))
            elif fate == "refused":
                svc.refuse(ticket.ref, rng.choice(grounds), actor="privacy_officer", now=at + dt.timedelta(days=3))
        except PolicykeeperError:
            pass
        summary.requests[svc.get(ticket.ref)["status"]] += 1
    queue = svc.open_requests(now=now)
    summary.overdue = sum(1 for r in queue if r["state"] == "overdue")
    summary.fixed_deadline = any(r["due_at"] is not None for r in queue)


def _verify(svc: RequestService, mailer: Mailer, ref: str, email: str, methods: tuple[str, ...],
            at: dt.datetime) -> str | None:
    code = _code(mailer, email)
    try:
        if code is not None:
            return svc.verify(ref, code, now=at).status
        if methods:
            return svc.verify_by_staff(ref, methods[0], reference=f"DEMO-ID-{ref[:6]}", actor="privacy_officer",
                                       mismatch_reason="demo: the address was confirmed with the requester",
                                       now=at).status
    except PolicykeeperError:
        return None
    return None


def _incident(eng: PolicyEngine, now: dt.datetime, summary: DemoSummary) -> None:
    from .incidents import incident_step, record_incident, required_steps

    cats = sorted(eng.email_categories()) or [eng.pack.data_categories[0].id]
    try:
        iid = record_incident(eng, started_at=now - dt.timedelta(days=9, hours=6), ended_at=now - dt.timedelta(days=9),
                              systems=["customer web portal"], categories=cats[:1], reference="DEMO-INC-1",
                              actor="security_officer", now=now - dt.timedelta(days=8))
        incident_step(eng, iid, required_steps(eng)[0], reference="DEMO-INC-1/notes", actor="security_officer",
                      now=now - dt.timedelta(days=7))
    except PolicykeeperError:
        return
    summary.incident = iid
