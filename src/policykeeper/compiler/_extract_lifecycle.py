"""Section extractors for how long data lives: retention periods, erasure and backups."""

from __future__ import annotations

import re
from typing import Any

from ._sections import Item, Sections
from ._values import end_action, negated, parse_duration

__all__ = ["LifecycleSections"]


class LifecycleSections(Sections):
    """The sections ``retention``, ``erasure`` and ``backups``."""

    def retention(self) -> Any:
        rules: list[dict[str, Any]] = []
        sents = self.find(r"\bdelet\w* within|\banonymi\w* within|\bretain|\bretention|"
                          r"\bstor(?:e|age)\b.*\b(?:period|time|long|until|necessary)|"
                          r"\bkeep\b|\bpreserv|\bsave\b.*\bperiod|\bretained\b")
        for s in sents:
            d = parse_duration(s.text)
            duration: Any = None
            start = "collection"
            conf = 0.6
            if d is not None and not re.search(r"\bwithin\b.*\b(?:respond|reply|feedback|request)", s.text, re.IGNORECASE):
                duration = d
            elif re.search(r"\bshortest\b", s.text, re.IGNORECASE):
                duration, start = "shortest_necessary", "purpose_end"
            elif re.search(r"\bnecessary (?:to|for) (?:achieve|fulfil|realize|accomplish|provide)|\bnecessary for the "
                           r"purpose|\btime necessary|\bperiod necessary|\bas long as (?:necessary|needed|required)",
                           s.text, re.IGNORECASE):
                duration, start = "necessary_for_purpose", "purpose_end"
            elif re.search(r"\buntil you (?:delete|clear)", s.text, re.IGNORECASE):
                duration, start = "until_user_clears", "user_clear_action"
            if duration is None:
                continue
            if re.search(r"\bafter (?:you )?(?:close|cancel|delete|deregister)\w*|\b(?:account )?cancell?ation",
                         s.text, re.IGNORECASE):
                start = "account_cancelled"
            rule = self.rule(s, "retention", id=f"retention_{len(rules) + 1}", categories="all", duration=duration,
                             start=start, end_action=end_action(s.text))
            if re.search(r"\blaws?\b|\blegal|\bregulat", s.text, re.IGNORECASE):
                rule["legal_extension"] = True
            if start == "collection":
                conf = 0.4
                self.items.append(Item(f"retention.retention_{len(rules) + 1}.start", "collection", s.text, s.start,
                                       s.end, 0.2, "NOT STATED when the period starts; categories default to all"))
            self.emit(f"retention.retention_{len(rules) + 1}", duration, s, conf, "retention")
            rules.append(rule)
        if not rules:
            return self.silent("retention", "the text states no retention period")
        return rules

    def erasure(self) -> Any:
        sents = [s for s in self.find(r"\bdelet|\berase|\banonymi") if not negated(s.text, r"delete|erase")]
        if not sents:
            return self.silent("erasure", "the text does not say when data is deleted")
        out: dict[str, Any] = {"grounds": self.silent("erasure.grounds", "deletion grounds are not drafted")}
        ends = {end_action(s.text) for s in sents} - {"unspecified"}
        out["end_action"] = ends.pop() if len(ends) == 1 else "unspecified"
        if any(re.search(r"\bexcept as otherwise (?:provided|required)|\bunless (?:otherwise )?(?:required|provided) by|"
                         r"\blaws and regulations (?:otherwise )?(?:require|stipulate)", s.text, re.IGNORECASE) for s in sents):
            out["legal_hold_override"] = True
        out["triggers"] = [self.rule(s, "erasure") for s in sents[:6]]
        self.emit("erasure.end_action", out["end_action"], sents[0], 0.5, "erasure")
        return out

    def backups(self) -> Any:
        s = self.first(r"\bbackup|\bback-up")
        if s is None or not re.search(r"\bdelet|\bremov|\bpurg|\berase", s.text, re.IGNORECASE):
            return self.silent("backups", "the text does not say how deletion reaches backups")
        out = self.rule(s, "backup", erasure_covers_backups=True)
        if re.search(r"\bmay not (?:immediately|be immediately)|\bnot immediately", s.text, re.IGNORECASE):
            out["immediate_purge"] = False
        self.emit("backups.erasure_covers_backups", True, s, 0.5, "backup")
        return out
