"""Find contradictions inside one pack: two of its own statements that cannot both hold.

Lint never changes a pack. A policy that contradicts itself is encoded faithfully,
and lint shows both sentences so a person can decide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ._data import Purpose
from ._model import Pack
from ._sharing import Recipient
from ._types import Rule

__all__ = ["Finding", "lint_pack"]


@dataclass(frozen=True)
class Finding:
    """A contradiction or gap: a rule, and what it says, against another."""

    code: str
    message: str
    first_path: str
    first_promises: tuple[str, ...]
    first_quote: str | None
    second_path: str | None = None
    second_promises: tuple[str, ...] = ()
    second_quote: str | None = None


def lint_pack(pack: Pack) -> list[Finding]:
    """Every contradiction and gap lint can find in ``pack``, in a stable order."""
    findings: list[Finding] = []
    for check in _CHECKS:
        findings.extend(check(pack))
    findings.extend(_stated_conflicts(pack, findings))
    return findings


def _stated_conflicts(pack: Pack, found: list[Finding]) -> Iterator[Finding]:
    """Contradictions recorded under ``source_issues`` (e.g. by ``pack draft``) that no rule-level check showed."""
    shown = {p for f in found for p in f.first_promises + f.second_promises}
    for i, issue in enumerate(pack.source_issues):
        if issue.kind != "internal_conflict" or shown.intersection(issue.promises):
            continue
        quotes: list[str | None] = []
        for pid in issue.promises[:2]:
            try:
                quotes.append(pack.promise(pid).quote)
            except KeyError:
                quotes.append(None)
        yield Finding(
            code="source_conflict",
            message=f"the policy contradicts itself: {issue.description}",
            first_path=f"source_issues[{i}]",
            first_promises=issue.promises[:1],
            first_quote=quotes[0] if quotes else None,
            second_path=f"source_issues[{i}]" if len(issue.promises) > 1 else None,
            second_promises=issue.promises[1:2],
            second_quote=quotes[1] if len(quotes) > 1 else None,
        )


def _quote(pack: Pack, rule: Rule) -> str | None:
    """The rule's own quote, else the quote of the first promise it names."""
    if rule.quote:
        return rule.quote
    for pid in rule.promises:
        try:
            return pack.promise(pid).quote
        except KeyError:
            continue
    return None


def _pair(pack: Pack, code: str, message: str, a_path: str, a: Rule, b_path: str | None, b: Rule | None) -> Finding:
    return Finding(
        code=code,
        message=message,
        first_path=a_path,
        first_promises=a.promises,
        first_quote=_quote(pack, a),
        second_path=b_path,
        second_promises=b.promises if b else (),
        second_quote=_quote(pack, b) if b else None,
    )


def _purposes(pack: Pack) -> dict[str, Purpose]:
    return {p.id: p for p in pack.purposes.items}


def _advertising_recipients(pack: Pack) -> Iterator[tuple[int, Recipient]]:
    purposes = _purposes(pack)
    for i, r in enumerate(pack.recipients):
        if any(purposes[p].data_use.startswith("marketing.advertising") for p in r.purposes if p in purposes):
            yield i, r


def _no_third_party_ads(pack: Pack) -> Iterator[Finding]:
    m = pack.marketing
    if isinstance(m, str) or m.third_party_ads_in_app is not False:
        return
    for i, r in _advertising_recipients(pack):
        yield _pair(
            pack,
            "ads_contradiction",
            f"the pack says there is no third-party advertising, yet recipient {r.id!r} ({r.name}) "
            "receives data for advertising",
            "marketing.third_party_ads_in_app",
            m,
            f"recipients[{i}]",
            r,
        )


def _default_deny_sharing(pack: Pack) -> Iterator[Finding]:
    for d_index, rule in enumerate(pack.disclosures):
        if rule.kind != "share" or rule.default != "deny":
            continue
        exception_ids = {e.id for e in rule.exceptions}
        for i, r in enumerate(pack.recipients):
            if not r.third_party or r.category in rule.exempt_recipient_categories:
                continue
            if r.basis is not None and r.basis in exception_ids:
                continue
            yield _pair(
                pack,
                "sharing_contradiction",
                f"the pack says nothing is shared with third parties ({rule.id!r}), yet recipient "
                f"{r.id!r} ({r.name}) receives data and no exception of that rule covers it",
                f"disclosures[{d_index}]",
                rule,
                f"recipients[{i}]",
                r,
            )


def _no_tracking(pack: Pack) -> Iterator[Finding]:
    c = pack.cookies
    if isinstance(c, str) or c.uses_tracking:
        return
    for i, cat in enumerate(pack.data_categories):
        if "cookie" in cat.classes or cat.fides_key.startswith("user.device.cookie"):
            yield _pair(
                pack,
                "cookie_contradiction",
                f"the pack says no cookies or similar technologies are used, yet data category {cat.id!r} is a cookie",
                "cookies.uses_tracking",
                c,
                f"data_categories[{i}]",
                cat,
            )


def _no_cross_border(pack: Pack) -> Iterator[Finding]:
    t, s = pack.transfers, pack.storage
    if isinstance(t, str) or t.cross_border != "not_allowed":
        return
    home = set(s.home_regions) if not isinstance(s, str) and not isinstance(s.home_regions, str) else set()
    for i, r in enumerate(pack.recipients):
        if r.place_of_processing != "unspecified" and r.place_of_processing not in home:
            yield _pair(
                pack,
                "transfer_contradiction",
                f"the pack says data does not cross borders, yet recipient {r.id!r} processes it in "
                f"{r.place_of_processing}",
                "transfers",
                t,
                f"recipients[{i}]",
                r,
            )


def _missing_contact(pack: Pack) -> Iterator[Finding]:
    if pack.contacts.status == "missing":
        yield _pair(
            pack,
            "pack_incomplete",
            "the policy refers people to contact details it never gives: the pack is incomplete "
            "until a contact channel is added",
            "contacts",
            pack.contacts,
            None,
            None,
        )


def _account_never_opens(pack: Pack) -> Iterator[Finding]:
    """Something is for account holders, yet no collection context opens an account (``creates_account``): the
    engine then never holds ``account_exists``, so only a 'member' in the fact register gets through."""
    contexts = pack.collection.contexts
    if any(c.creates_account for c in contexts):
        return
    why = ("is for account holders, but no collection context opens an account (creates_account: true), so nobody "
           "has one; mark the context where the policy says an account is made")
    for i, c in enumerate(contexts):
        named = (*c.activation.all, *c.activation.any) if c.activation is not None else ()
        if c.member_only or any(str(f).partition(":")[0] == "account_exists" for f in named):
            yield _pair(pack, "account_never_opens", f"{c.name} {why}", f"collection.contexts[{i}]", c, None, None)
    for i, p in enumerate(pack.purposes.items):
        if p.member_only:
            yield _pair(pack, "account_never_opens", f"{p.name} {why}", f"purposes.items[{i}]", p, None, None)


_CHECKS: tuple[Callable[[Pack], Iterator[Finding]], ...] = (
    _account_never_opens,
    _no_third_party_ads,
    _default_deny_sharing,
    _no_tracking,
    _no_cross_border,
    _missing_contact,
)
