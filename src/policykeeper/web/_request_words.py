"""Requests in words people and staff read, in the page's language: rights, statuses, states and the steps of a
request's timeline. Pages of the privacy center and the admin console share them; every text is marked for
translation here (``_("...")``) so the catalogue check finds it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup

from ..requests import TimelineEvent

__all__ = ["Words", "csv_cell", "words_for"]


class Words:
    """Names of rights, statuses, queue states and timeline steps, translated by ``_`` (a page's gettext)."""

    def __init__(self, _: Callable[..., Any], items: dict[str, str] | None = None, lang: str = "en") -> None:
        self._ = _
        self.items = items or {}
        """The pack's data categories by id: their names, shown in the pack's language ``lang``."""
        self.lang = lang
        self.rights: dict[str, Any] = {
            "access": _("See your data"), "copy": _("Get a copy of your data"), "correct": _("Correct your data"),
            "delete": _("Erase your data"), "restrict": _("Limit how your data is used"),
            "object": _("Object to a use of your data"), "withdraw_consent": _("Withdraw a consent"),
            "portability": _("Take your data elsewhere"), "cancel_account": _("Close your account"),
            "clear_history": _("Clear your history"),
            "automated_decision_explanation": _("Explain an automated decision"),
            "complain_internal": _("Complain to us"), "complain_authority": _("Complain to the authority"),
            "manage_account": _("Manage your account"), "general_question": _("A question"),
            "complaint": _("A complaint"), "rights_request": _("A request"),
        }
        self.statuses = {
            "received": _("waiting for confirmation"), "verified": _("confirmed, in progress"),
            "extended": _("in progress, deadline extended"), "fulfilled": _("done"), "refused": _("refused"),
            "open": _("open"), "closed": _("closed"), "all": _("all"),
        }
        self.states = {
            "overdue": _("overdue"), "due_soon": _("due soon"), "on_time": _("on time"), "no_date": _("no date"),
            "closed": _("closed"),
        }
        self.events = {
            "received": _("Received"), "verified": _("Identity verified"), "code_rejected": _("Wrong code entered"),
            "code_resent": _("New code sent"), "extended": _("Deadline extended"), "refused": _("Refused"),
            "fulfilled": _("Fulfilled"), "note_added": _("Note"), "values_revealed": _("Values revealed"),
            "notices_queued": _("Recipients told to erase"), "company_erased": _("Company database erased"),
            "company_not_held": _("Company database held nothing"),
        }

    def right(self, key: str | None) -> str:
        return str(self.rights.get(key or "", (key or "").replace("_", " ")))

    def status(self, key: str) -> str:
        return str(self.statuses.get(key, key.replace("_", " ")))

    def state(self, key: str) -> str:
        return str(self.states.get(key, key.replace("_", " ")))

    def event(self, key: str) -> str:
        return str(self.events.get(key, key.replace("_", " ")))

    def ground(self, key: str) -> str:
        _ = self._
        known = {"identity_not_verified": _("identity not verified"),
                 "unreasonably_repetitive": _("unreasonably repetitive"),
                 "excessive_technical_means": _("needs excessive technical means"),
                 "risk_to_others": _("a risk to others"), "impractical_backup_tapes": _("only on backup tapes"),
                 "national_security": _("national security"), "national_defense": _("national defence"),
                 "public_security": _("public security"), "public_health": _("public health"),
                 "major_public_interest": _("a major public interest"),
                 "criminal_proceedings": _("criminal proceedings"),
                 "malice_or_abuse_of_rights": _("malice or abuse of rights"),
                 "serious_harm_to_rights": _("serious harm to others' rights"),
                 "protect_vital_interests": _("protecting someone's vital interests"),
                 "trade_secret": _("a trade secret"), "legal_obligation": _("a legal obligation")}
        return str(known.get(key, key.replace("_", " ")))

    def days(self, n: int | None) -> str:
        """Days left in words: "3 days left", "due today", "2 days overdue"."""
        _ = self._
        if n is None:
            return ""
        if n == 0:
            return str(_("due today"))
        if n > 0:
            return str(_("1 day left") if n == 1 else _("%(n)s days left", n=n))
        return str(_("1 day overdue") if n == -1 else _("%(n)s days overdue", n=-n))

    def actor(self, actor: str, names: dict[str, str]) -> Markup:
        """Who did it: the person, policykeeper itself, or the staff key's name (a name: never translated)."""
        _ = self._
        if actor == "subject":
            return Markup.escape(_("the person"))
        if actor in ("engine", "privacy_officer", "system"):
            return Markup.escape(_("policykeeper"))
        name = names.get(actor[4:], actor[4:]) if actor.startswith("key:") else actor
        return Markup('<span translate="no">{}</span>').format(name)

    def item(self, key: str) -> Markup:
        """A data category by its name, marked with the pack's language."""
        return Markup('<span lang="{}">{}</span>').format(self.lang, self.items.get(key, key.replace("_", " ")))

    def _with_items(self, text: str, keys: list[str]) -> Markup:
        listed = Markup(", ").join(self.item(k) for k in keys) if keys else Markup("-")
        return Markup.escape(text).replace("%(items)s", listed)

    def _said(self, text: str, **values: object) -> Markup:
        """A sentence of ours around what staff wrote (a reason, a reference): their words stay as they are, marked
        ``translate="no"``."""
        return Markup.escape(text) % {k: Markup('<span translate="no">{}</span>').format(v) for k, v in values.items()}

    def step(self, e: TimelineEvent) -> list[Any]:
        """What else a step records, as short sentences (never a value of the person)."""
        _, d = self._, e.detail
        out: list[Any] = []
        if e.event == "verified":
            method = str(d.get("method") or "code")
            out.append(str({"login": _("by the person's signed-in session"), "session": _("by the person's "
                           "signed-in session"), "code": _("with the emailed code")}.get(
                method, _("by %(method)s", method=method.replace("_", " ")))))
            if d.get("reference"):
                out.append(self._said(str(_("evidence: %(ref)s")), ref=d["reference"]))
            if d.get("mismatch_reason"):
                out.append(self._said(str(_("address not on record; why staff went on: %(why)s")),
                                      why=d["mismatch_reason"]))
        elif e.event == "extended":
            out.append(self._said(str(_("by %(n)s days: %(why)s")).replace("%(n)s", str(int(d.get("days") or 0))),
                                  why=d.get("reason") or ""))
            late = int(d.get("overdue_days") or 0)
            if late:
                out.append(str(_("was overdue by 1 day when extended") if late == 1 else
                               _("was overdue by %(n)s days when extended", n=late)))
        elif e.event == "refused":
            out.append(str(_("ground: %(ground)s", ground=self.ground(str(d.get("ground") or "")))))
        elif e.event == "received":
            says = d.get("says") or {}
            if says.get("corrects"):
                out.append(self._with_items(str(_("asks to correct: %(items)s")), [str(says["corrects"])]))
            if says.get("note"):
                out.append(str(_("with a note from the person")))
        elif e.event == "values_revealed":
            out.append(self._with_items(str(_("items shown: %(items)s")), [str(c) for c in d.get("categories") or []]))
        elif e.event == "code_rejected":
            out.append(str(_("attempt %(n)s", n=d.get("attempts"))))
        elif e.event == "note_added" and e.note is None:
            out.append(str(_("the note's text was destroyed with the person's data")))
        elif e.event == "fulfilled" and d.get("corrected"):
            out.append(self._with_items(str(_("corrected: %(items)s")), [str(d["corrected"])]))
        return out


def words_for(_: Callable[..., Any], pack: Any = None) -> Words:
    """The words in a page's language; with the pack, data categories by their names."""
    if pack is None:
        return Words(_)
    return Words(_, {c.id: c.name for c in pack.data_categories}, pack.language or "en")


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula (CSV injection): a cell starting with = + - @
    or a tab or carriage return gets a leading apostrophe, unless it is a plain number."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        stripped = text[1:] if text[0] == "-" else ""
        if not stripped.isdigit():
            return "'" + text
    return text
