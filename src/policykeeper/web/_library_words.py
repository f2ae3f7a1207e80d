"""The library's errors in words a person reads on a page, in the page's language.

The library's messages are written for developers and operators, in English (docs/errors.md). A page never shows
one as it is to a reader of another language: the message's known shape (for the messages people meet often, such
as a wrong or expired code) or else the error's stable ``code`` (docs/errors.md) is mapped to a plain sentence marked
for translation. An English page keeps the library's own message, which is the most precise.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from .._exceptions import BadValueError, PackError, PolicykeeperError
from ..i18n import day_in
from ._errors import ApiError

__all__ = ["chain_words", "pack_issue_words", "problem_words"]

_Gettext = Callable[..., Any]
_WRONG = "Something went wrong on our side; nothing was changed."


def _known(_: _Gettext, message: str) -> str | None:
    """The library's messages people meet on the privacy center and the console, by their shape."""
    left = re.fullmatch(r"wrong code; (\d+) attempt\(s\) left", message)
    if left:
        return str(_("That code is wrong; %(n)s tries left.", n=left.group(1)))
    fixed = {
        "wrong code; no attempts left, ask for a new one": _("That code is wrong and no tries are left: ask for a "
                                                             "new code."),
        "no valid code for this request: ask for a new one": _("There is no valid code for this request: ask for a "
                                                               "new one."),
        "the code has expired: ask for a new one": _("The code has expired: ask for a new one."),
        "email must be one address, like name@example.com": _("Enter one email address, like name@example.com."),
        "no data is held about that person": _("We hold no data about you."),
        "that API key is not valid (revoked, mistyped or unknown)": _("That key is not valid: it was revoked or "
                                                                      "mistyped, or we do not know it."),
        "a request made by an agent is verified by staff, with proof of the agent's authority":
            _("A request made by someone acting for a person is confirmed by staff, with proof of their authority."),
    }
    if message in fixed:
        return str(fixed[message])
    patterns: list[tuple[str, Any]] = [
        (r"request \w+ is not waiting for a code", _("This request no longer needs a code.")),
        (r"request \w+ is \w+; the export is ready once it is fulfilled",
         _("The export is ready once the request is done.")),
        (r"request \w+ is \w+: the requester's identity must be verified first",
         _("The requester's identity must be verified first.")),
        (r"request \w+ is already \w+", _("This request is already closed.")),
        (r"request \w+ is \w+: only a verified, open request can be extended",
         _("Only a confirmed, open request can be extended.")),
        (r"an extension is 1 to 90 days", _("An extension is 1 to 90 days.")),
        (r"say why, in 1 to 200 characters.*", _("Say why, in 1 to 200 characters, with no personal data.")),
        (r"no request '.*'", _("There is no such request.")),
    ]
    for pattern, words in patterns:
        if re.fullmatch(pattern, message):
            return str(words)
    return None


def _by_code(_: _Gettext, code: str) -> str:
    words = {
        "denied": _("The policy does not allow this; nothing was changed."),
        "subject_not_found": _("No data is held about this person, or it was erased."),
        "bad_value": _("That could not be done as asked, and nothing was changed: check what you entered and try "
                       "again."),
        "privileged_fact": _("That could not be done as asked, and nothing was changed: check what you entered and "
                             "try again."),
        "erasure_incomplete": _("This cannot be finished yet: some of the data must be kept for a legal reason. "
                                "Nothing was erased."),
        "config": _("Something on our side is not set up for this; nothing was changed. Please try again later."),
        "forbidden": _("The form is stale or was not sent from this site; reload the page and retry."),
        "too_many_attempts": _("Too many tries: wait a while and try again."),
        "not_signed_in": _("Please sign in first."),
        "not_found": _("There is no such page or item."),
    }
    return str(words.get(code, _("Something went wrong on our side; nothing was changed.")))


def _steps(_: _Gettext) -> dict[str, Any]:
    return {"record_keeping": _("record keeping"), "auditing": _("auditing"), "analysis": _("analysis"),
            "disposal": _("disposal")}


def _channels(_: _Gettext) -> dict[str, Any]:
    return {"email": _("email"), "push": _("push notification"), "letter": _("letter"), "phone": _("phone call"),
            "public": _("public announcement"), "report": _("regulator's report")}


def _listed(names: dict[str, Any], keys: Any) -> str:
    return ", ".join(str(names.get(k, str(k).replace("_", " "))) for k in keys)


def _kind_words(_: _Gettext, exc: BadValueError) -> str | None:
    """A check of the incidents or the versions that refused a value (its ``kind``), in the page's language."""
    language = "en" if str(_(_WRONG)) == _WRONG else "zh-Hans"
    f = {k: day_in(language, v) if isinstance(v, dt.date) else v for k, v in exc.facts.items()}  # days in words
    kind = exc.kind or ""
    if kind.startswith("version_"):
        return _version_words(_, kind, f)
    fields = {"what_happened": _("What happened"), "possible_impact": _("Possible impact"),
              "measures": _("Measures taken or planned"), "advice": _("What people can do to protect themselves"),
              "remedies": _("Remedies")}
    words: dict[str, Any] = {
        "incident_reference": _("Give the ticket or report reference: 1 to 120 characters, no personal data."),
        "incident_categories": _("Choose kinds of data this policy declares."),
        "incident_systems": _("Name at least one system involved."),
        "incident_window": _("The end is before the start."),
        "incident_future": _("The incident cannot start in the future."),
        "incident_step": _("Choose one of the steps this policy records: %(steps)s.",
                           steps=_listed(_steps(_), f.get("steps", ()))),
        "incident_closed": _("Incident %(id)s is closed: nothing more can be recorded for it.", id=f.get("incident")),
        "incident_steps_missing": _("Incident %(id)s cannot close yet: these steps are not on record: %(steps)s.",
                                    id=f.get("incident"), steps=_listed(_steps(_), f.get("missing", ()))),
        "incident_not_told": _("Incident %(id)s cannot close yet: the people affected have not been told. Send "
                               "the notice first.", id=f.get("incident")),
        "incident_unknown": _("There is no such incident."),
        "notice_field": _("The notice must say “%(field)s”: the policy requires it.",
                          field=fields.get(str(f.get("field")), f.get("field"))),
        "notice_empty": _("The notice must say something: at least what happened."),
        "notice_channel": _("The policy does not name that channel for these notices; it names: %(channels)s.",
                            channels=_listed(_channels(_), f.get("channels", ()))),
        "notice_transport": _("The outbox cannot reach people by %(channel)s: send those notices yourself.",
                              channel=_channels(_).get(str(f.get("channel")), f.get("channel"))),
        "notice_no_announcement": _("The policy promises no public announcement instead of telling each person: "
                                    "tell people one by one."),
        "notice_busy": _("Another run is telling the same people: try again once it has finished."),
        "verification_method": _("Choose one of this policy's ways of checking who someone is."),
        "evidence_reference": _("Give a reference to the evidence kept elsewhere: 1 to 120 characters, no personal "
                                "data."),
        "mismatch_reason": _("Say why you go on, in 1 to 200 characters, with no personal data."),
        "agent_authority": _("This request was made by someone acting for the person: say where the proof of their "
                             "authority is kept (1 to 120 characters, no personal data)."),
        "address_mismatch": _("The request's address cannot be matched with an address held for this person: check "
                              "that it is the requester's, then say why you go on."),
        "refusal_ground": _("Choose one of the refusal grounds this policy gives."),
        "erasure_ground": _("Choose one of the grounds on which this policy erases on request."),
        "not_held_reason": _("Say why the company's databases hold nothing for this person, in 1 to 200 characters, "
                             "with no personal data."),
        "locked_detail": _("This detail cannot be changed once registered: the policy locks it."),
    }
    found = words.get(kind)
    return None if found is None else str(found)


def _version_words(_: _Gettext, kind: str, f: dict[str, Any]) -> str | None:
    units = {"hours": _("hours"), "calendar_days": _("days"), "business_days": _("business days"),
             "months": _("months"), "years": _("years")}
    words: dict[str, Any] = {
        "version_updated_missing": _("The new version must carry the date it was updated: this policy stamps every "
                                     "version with it."),
        "version_updated_not_later": _("The new version's update date (%(new)s) must be later than the one in force "
                                       "(%(old)s).", new=f.get("new"), old=f.get("old")),
        "version_effective_missing": _("The new version must state the date it takes effect: this policy states "
                                       "one for every version."),
        "version_effective_differs": _("The day it takes effect (%(given)s) differs from the one the version "
                                       "states (%(stated)s).", given=f.get("given"), stated=f.get("stated")),
        "version_before_notice": _("A version cannot take effect before people are told of it."),
        "version_advance_notice": _("People must be told at least %(n)s %(unit)s before the version takes effect: "
                                    "%(earliest)s at the earliest.", n=f.get("n"),
                                    unit=units.get(str(f.get("unit")), f.get("unit")), earliest=f.get("earliest")),
        "version_other_pack": _("This file is another policy's, not a new version of the one in force."),
        "version_label_taken": _("Version %(label)s is already published: give the new version its own label.",
                                 label=f.get("label")),
        "version_identical": _("This version is identical to one already published."),
        "version_reduces_rights": _("This version reduces people's rights: it can be published only if it applies "
                                    "to each person once they explicitly agree (tick that box)."),
        "version_unknown": _("There is no such version."),
    }
    found = words.get(kind)
    return None if found is None else str(found)


def pack_issue_words(exc: PackError, _: _Gettext) -> list[Any]:
    """The problems of an uploaded pack file, one per issue: on an English page the loader's own words; otherwise
    where (line, key) and what kind of problem in the page's language, the loader's detail kept as code (for the
    person who fixes the file)."""
    from markupsafe import Markup

    if str(_(_WRONG)) == _WRONG:
        return [str(i) for i in exc.issues] or [exc.message]
    what = {"pack_syntax": _("the file is not valid YAML here"),
            "pack_schema": _("a key, type or value here does not fit the pack's format"),
            "pack_reference": _("this names something the pack does not declare")}
    kind = str(what.get(exc.code, what["pack_schema"]))
    out: list[Any] = []
    for issue in exc.issues or ():
        if issue.line is not None and issue.path:
            where = _("Line %(line)s, key %(key)s", line=issue.line, key=Markup("<code>{}</code>").format(issue.path))
        elif issue.line is not None:
            where = _("Line %(line)s", line=issue.line)
        elif issue.path:
            where = _("Key %(key)s", key=Markup("<code>{}</code>").format(issue.path))
        else:
            where = _("The file")
        said = Markup(_("%(where)s: %(what)s", where=Markup(where), what=Markup.escape(kind)))  # our own words
        out.append(Markup('{} <code class="muted">{}</code>').format(said, issue.message))
    return out or [kind]


def chain_words(report: Any, _: _Gettext) -> str:
    """Why an audit chain's check failed (a :class:`ChainReport`), in the page's language."""
    if str(_(_WRONG)) == _WRONG and report.reason:
        return str(report.reason)
    words = {"missing": _("an entry is missing: it was deleted."),
             "link": _("its link to the entry before it does not match: entries were moved or replaced."),
             "edited": _("its content does not match its hash: it was edited."),
             "head": _("the chain ends before its last recorded entry: entries at the end were deleted.")}
    return str(words.get(report.kind or "", _("the chain does not check out.")))


def problem_words(exc: Exception, _: _Gettext) -> str:
    """What went wrong, for a page in ``_``'s language (messages never carry personal values)."""
    if not isinstance(exc, ApiError | PolicykeeperError):
        return str(_("Something went wrong on our side; nothing was changed."))
    message = str(exc.message)
    if isinstance(exc, ApiError) and exc.code == "invalid":
        return message  # the pages' own checks: already written in the page's language
    english = str(_(_WRONG)) == _WRONG
    if english and message:
        return message  # an English page: the library's own, more precise words
    if isinstance(exc, BadValueError) and exc.kind:
        said = _kind_words(_, exc)
        if said:
            return said
    return _known(_, message) or _by_code(_, exc.code)


def change_describer(request: Any) -> Callable[[Any], Any]:
    """For a console page: one change of a policy version (a ``Change`` or its stored dict) as a sentence in the
    page's language, the pack's own words (names, promise statements) marked with the pack's language."""
    from markupsafe import Markup

    from ..versions._words import change_words, pack_names
    from ._i18n import html_gettext_for
    from ._pages import ctx_of, language_of

    pack = ctx_of(request).engine().pack
    _ = html_gettext_for(language_of(request))
    names = pack_names(pack)

    def own(text: str) -> Markup:
        return Markup('<span lang="{}">{}</span>').format(pack.language or "en", text)

    return lambda change: change_words(_, change, own, names)


OWN_START, OWN_END = "\u2068", "\u2069"
"""Unicode's first-strong isolate and its end: around the pack's own words inside a flash message (a plain text that
travels in the address), so the page can mark them with the pack's language (:func:`own_words`)."""


def own(text: str) -> str:
    """``text`` (the pack's own words) marked for :func:`own_words`, to sit in a flash message."""
    return f"{OWN_START}{text}{OWN_END}"


def own_words(message: str | None, pack: Any) -> Any:
    """A flash message for the page: escaped, the pack's words in it (see :func:`own`) marked with the pack's
    language."""
    from markupsafe import Markup, escape

    if not message:
        return ""
    lang = getattr(pack, "language", None) or "en"
    out = Markup("")
    for i, part in enumerate(re.split(f"{OWN_START}|{OWN_END}", message)):
        out += Markup('<span lang="{}">{}</span>').format(lang, part) if i % 2 else escape(part)
    return out
