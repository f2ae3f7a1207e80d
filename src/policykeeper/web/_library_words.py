"""The library's errors in words a person reads on a page, in the page's language.

The library's messages are written for developers and operators, in English (docs/errors.md). A page never shows
one as it is to a reader of another language: the message's known shape (for the messages people meet often, such
as a wrong or expired code) or else the error's stable ``code`` (docs/errors.md) is mapped to a plain sentence marked
for translation. An error a check raised with its ``kind`` (a :class:`BadValueError`) gets the kind's words, which are
data, in ``kind_words.toml`` next to this module. An English page keeps the library's own message, which is the most
precise.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._exceptions import BadValueError, PackError, PolicykeeperError
from ..i18n import day_in
from ._errors import ApiError

__all__ = ["KIND_WORDS", "KIND_WORDS_FILE", "chain_words", "pack_issue_words", "problem_words"]

_Gettext = Callable[..., Any]
_WRONG = "Something went wrong on our side; nothing was changed."

KIND_WORDS_FILE = Path(__file__).with_name("kind_words.toml")


def _kinds() -> dict[str, str]:
    """The words file's entries, every table's in one mapping, checked: each kind once, each value a string."""
    found: dict[str, str] = {}
    for name, table in tomllib.loads(KIND_WORDS_FILE.read_text(encoding="utf-8")).items():
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise ValueError(f"{KIND_WORDS_FILE.name}: [{name}] must be a table of kind = \"words\"")
        if found.keys() & table.keys():
            raise ValueError(f"{KIND_WORDS_FILE.name}: [{name}] repeats {', '.join(sorted(found.keys() & table.keys()))}")
        found.update(table)
    return found


KIND_WORDS = _kinds()
"""The words for each ``kind`` of :class:`BadValueError` a page may meet: English message ids, translated when shown."""


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
    """A check of the incidents, the requests or the versions that refused a value (its ``kind``), in the page's
    language: the kind's words (``kind_words.toml``), what they name filled from the error's facts."""
    words = KIND_WORDS.get(exc.kind or "")
    if words is None:
        return None
    language = "en" if str(_(_WRONG)) == _WRONG else "zh-Hans"
    f = {k: day_in(language, v) if isinstance(v, dt.date) else v for k, v in exc.facts.items()}  # days in words
    return str(_(words, **_named(_, f)))


def _named(_: _Gettext, f: dict[str, Any]) -> dict[str, Any]:
    """What the words of a check name (their ``%(name)s``), from its facts ``f``: the pack's keys in words."""
    fields = {"what_happened": _("What happened"), "possible_impact": _("Possible impact"),
              "measures": _("Measures taken or planned"), "advice": _("What people can do to protect themselves"),
              "remedies": _("Remedies")}
    units = {"hours": _("hours"), "calendar_days": _("days"), "business_days": _("business days"),
             "months": _("months"), "years": _("years")}
    return {"id": f.get("incident"),
            "steps": _listed(_steps(_), f.get("missing", f.get("steps", ()))),  # those not on record, or all
            "field": fields.get(str(f.get("field")), f.get("field")),
            "channels": _listed(_channels(_), f.get("channels", ())),
            "channel": _channels(_).get(str(f.get("channel")), f.get("channel")),
            "unit": units.get(str(f.get("unit")), f.get("unit")),
            **{name: f.get(name) for name in ("new", "old", "given", "stated", "n", "earliest", "label")}}


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
