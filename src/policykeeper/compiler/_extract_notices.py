"""Section extractors for protection and notices: security measures, breach notices, changes to the
policy, service shutdown, marketing and cookies."""

from __future__ import annotations

import re
from typing import Any

from ._lexicon import SECURITY_RULES
from ._sections import UNSPEC, Item, Sections
from ._values import CHANNEL_WORDS, end_action, negated, parse_duration

__all__ = ["NoticeSections"]


class NoticeSections(Sections):
    """The sections ``security``, ``breach``, ``changes``, ``service_cessation``, ``marketing`` and ``cookies``."""

    def security(self) -> Any:
        controls: list[dict[str, Any]] = []
        pool = self.find(r"\bsecur|\bprotect|\bencrypt|\bconfidential|\baccess|\btraining|\battack")
        for kind, pat in SECURITY_RULES:
            s = self.first(pat, pool)
            if s is None:
                continue
            controls.append(self.rule(s, "security", id=kind, kind=kind))
            self.emit(f"security.{kind}", kind, s, 0.6, "security")
        if not controls:
            return self.silent("security", "the text names no security measure")
        return controls

    def breach(self) -> Any:
        s = next((x for x in self.find(r"\bincidents?\b|\bbreach(?:es)?\b|\bleak(?:s|age)?\b")
                  if re.search(r"\b(?:inform|notify|notice to)\b (?:\w+ ){0,2}(?:you|users?|subjects?|the (?:personal "
                               r"information )?subjects?)", x.text, re.IGNORECASE)), None)
        if s is None:
            return self.silent("breach", "the text says nothing about security incidents")
        window = self.window(s, 4)
        out = self.rule(s, "breach", notify_subjects=bool(re.search(r"\binform|\bnotify|\bnotice", s.text, re.IGNORECASE)))
        fields = [f for f, p in (("basic_situation", r"\bbasic (?:situation|information)"),
                                 ("possible_impact", r"\bpossible (?:impact|consequences)|\bimpact"),
                                 ("measures_taken_or_planned", r"\bmeasures (?:we have taken|taken|that we)"),
                                 ("subject_prevention_advice", r"\bsuggestions?|\badvice|\bprevent and reduce"),
                                 ("remedies", r"\bremed")) if re.search(p, window, re.IGNORECASE)]
        if fields:
            out["content_fields"] = fields
        channels = [c for c, p in CHANNEL_WORDS if re.search(p, window, re.IGNORECASE) and c != "announcement"]
        if channels:
            out["channels"] = channels
        if re.search(r"\bannouncement|\bpublic notice", window, re.IGNORECASE):
            out["fallback_when_individual_notice_impractical"] = "public_announcement"
        if re.search(r"\breport\w*\b.*\b(?:regulat|authorit|competent department)", window, re.IGNORECASE):
            out["regulator_report"] = True
        self.emit("breach.notify_subjects", out["notify_subjects"], s, 0.6, "breach")
        return out

    def changes(self, version: dict[str, Any]) -> dict[str, Any]:
        upd, eff = version.get("updated_date") != UNSPEC, version.get("effective_date") != UNSPEC
        out: dict[str, Any] = {"date_stamp": "updated_and_effective" if upd and eff else ("updated" if upd else "none")}
        sents = self.find(r"\b(?:update|change|revise|modif|amend)\w*\b.*\b(?:this|the|our) (?:privacy )?(?:policy|"
                          r"agreement|notice|statement)\b|\b(?:policy|version)\b.*\b(?:update|change|revis)\w*|\bmajor changes|"
                          r"\bsignificant changes|\bmaterial changes")
        near = list(dict.fromkeys(x for s in sents for x in self.following(s, 3)))
        adv = next((s for s in near if parse_duration(s.text) and re.search(r"\bin advance|\bbefore|\bprior", s.text,
                                                                            re.IGNORECASE)
                    and re.search(r"\bnotif|\binform|\bnotice|\bpublish|\bpost", s.text, re.IGNORECASE)), None)
        if adv is not None:
            out["advance_notice"] = parse_duration(adv.text)
            self.emit("changes.advance_notice", out["advance_notice"], adv, 0.6, "change")
        else:
            out["advance_notice"] = self.silent("changes.advance_notice", "no advance notice period is stated")
        acc = next((s for s in self.find(r"\bcontinu\w* (?:to )?(?:use|using|access)")
                    if re.search(r"\bagree|\baccept|\bbound|\bconsent|\bacceptance", s.text, re.IGNORECASE)
                    and re.search(r"\bupdat|\bchang|\brevis|\bmodif|\bnew\b|\bafter", s.text, re.IGNORECASE)), None)
        if acc is not None:
            out["acceptance"] = ("continued_use_after_effective" if re.search(r"\beffective|\btakes? effect", acc.text,
                                                                                 re.IGNORECASE)
                                 else "continued_use_after_posting")
            self.emit("changes.acceptance", out["acceptance"], acc, 0.6, "change")
            sents = sents + [acc]
        else:
            out["acceptance"] = self.silent("changes.acceptance", "the text does not say how changes are accepted")
        channels = sorted({c for s in sents for c, p in CHANNEL_WORDS if re.search(p, s.text, re.IGNORECASE)})
        if channels:
            out["notice_channels"] = channels
        sig = next((s for s in sents if re.search(r"\bmajor|\bsignificant|\bmaterial", s.text, re.IGNORECASE)), None)
        if sig is not None:
            window = self.window(sig, 8)
            trig = [t for t, p in (("purposes", r"\bpurposes?\b"),
                                   ("data_types", r"\btypes? of (?:personal )?(?:information|data)"),
                                   ("use_methods", r"\b(?:methods?|ways?) of (?:use|using|processing)"),
                                   ("ownership_or_structure", r"\bownership|\borgani[sz]ational structure|\bmerger"),
                                   ("recipients", r"\brecipients?|\bmain objects"), ("rights", r"\byour rights"),
                                   ("security_contact_or_complaints", r"\bcomplaint|\bcontact (?:method|channel)"),
                                   ("high_risk_assessment", r"\brisk assessment"))
                    if re.search(p, window, re.IGNORECASE)]
            if trig:
                out["significant_triggers"] = trig
                self.emit("changes.significant_triggers", trig, sig, 0.5, "change")
        if re.search(r"\beffective date", " ".join(s.text for s in sents), re.IGNORECASE):
            out["show_effective_date"] = True
        out["rules"] = [self.rule(s, "change") for s in sents[:8]]
        if not sents:
            self.silent("changes", "the text does not say how the policy changes")
        return out

    def service_cessation(self) -> Any:
        s = self.first(r"\bcease\w*\b.*\b(?:operation|service|products?)|\bstop\w* (?:operating|operation|providing)|"
                       r"\bterminat\w+ (?:of )?(?:the )?(?:operation|services?)")
        if s is None:
            return self.silent("service_cessation", "the text says nothing about shutting the service down")
        window = self.window(s, 2)
        channels = [c for c, p in CHANNEL_WORDS if re.search(p, window, re.IGNORECASE)]
        end = end_action(window)
        if not channels or end == "unspecified":
            return self.silent("service_cessation", "a shutdown is mentioned, but not how people are told or what "
                               "happens to the data")
        within: Any = parse_duration(window) or ("reasonable_period" if re.search(r"\breasonable period", window,
                                                                                   re.IGNORECASE) else "unspecified")
        out = self.rule(s, "change", notify_channels=channels, end_action=end, within=within)
        self.emit("service_cessation", {"channels": channels, "end_action": end}, s, 0.6, "change")
        return out

    def marketing(self) -> Any:
        sents = self.find(r"\bmarketing|\badvertis|\bpromotion|\bnewsletter|\bunsubscribe|\bspecial offers")
        if not sents:
            return self.silent("marketing", "the text says nothing about marketing or advertising")
        out: dict[str, Any] = {}
        anchor = sents[0]
        no_ads = next((s for s in sents if negated(s.text, r"provide|show|display|serve|send|use")
                       and re.search(r"advertis", s.text, re.IGNORECASE)), None)
        if no_ads is not None:
            out["third_party_ads_in_app"] = False
            anchor = no_ads
            self.emit("marketing.third_party_ads_in_app", False, no_ads, 0.6, "marketing")
        targeted = self.first(r"\b(?:relevant|targeted|personali[sz]ed|interest-based|tailored) (?:\w+ )?(?:ads|advertis)",
                              sents)
        if targeted is not None and self.example_only(targeted):
            # an example of what something "may be used for, such as": not a statement that the company does it, and
            # targeted_ads = true unlocks personalised ads in the engine, so it needs a statement
            self.items.append(Item("marketing.targeted_ads", UNSPEC, targeted.text, targeted.start, targeted.end, 0.3,
                                   "targeted advertising is named only in a list of examples ('such as'); state "
                                   "whether the company serves targeted ads"))
        elif targeted is not None:
            out["targeted_ads"] = True
            self.emit("marketing.targeted_ads", True, targeted, 0.6, "marketing")
        unsub = self.first(r"\bunsubscribe|\bopt[- ]out|\bstop receiving", sents)
        if unsub is not None:
            out["opt_out_methods"] = [m for m, p in (("unsubscribe_link", r"\bunsubscribe link|\blink"),
                                                      ("settings", r"\bsettings"), ("contact", r"\bcontact us"),
                                                      ("reply", r"\breply")) if re.search(p, unsub.text, re.IGNORECASE)]
            self.emit("marketing.opt_out_methods", out["opt_out_methods"], unsub, 0.5, "marketing")
        optin = (self.first(r"\b(?:agreed|consent\w*|opt(?:ed)?[- ]in) to receive")
                 or self.first(r"\bwith your (?:prior )?consent", sents))
        if optin is not None:
            out["basis"] = "opt_in"
            self.emit("marketing.basis", "opt_in", optin, 0.5, "marketing")
        elif unsub is not None and re.search(r"\bunsubscribe|\bopt[- ]out of\b|\bstop receiving", unsub.text, re.I):
            out["basis"] = "opt_out"
            self.emit("marketing.basis", "opt_out", unsub, 0.4, "marketing")
        else:
            out["basis"] = self.silent("marketing.basis", "the text does not say whether marketing is opt-in or opt-out")
        out.update(self.rule(anchor, "marketing"))
        out["rules"] = [self.rule(s, "marketing") for s in sents[:8] if s is not anchor]
        return out

    def cookies(self) -> Any:
        sents = self.find(r"\bcookies?\b|\bweb beacons?|\bpixel tags?|\btracking technolog")
        if not sents:
            return self.silent("cookies", "the text does not mention cookies or similar technologies")
        window = " ".join(s.text for s in sents)
        no = next((s for s in sents if negated(s.text, r"use|place|set") and not re.search(r"\bthird", s.text, re.I)), None)
        out: dict[str, Any]
        if no is not None and len(sents) == 1:
            out = self.rule(no, "cookies", uses_tracking=False)
            self.emit("cookies.uses_tracking", False, no, 0.6, "cookies")
            return out
        out = self.rule(sents[0], "cookies", uses_tracking=True)
        self.emit("cookies.uses_tracking", True, sents[0], 0.8, "cookies")
        tech = [t for t, p in (("cookie", r"\bcookies?\b"), ("web_beacon", r"\bweb beacons?"), ("pixel_tag", r"\bpixel"),
                               ("tag", r"\btags\b"), ("script", r"\bscripts?\b"), ("local_storage", r"\blocal storage"),
                               ("html5_lso", r"\bhtml5|\blocal shared object"), ("advertising_id", r"\badvertising id"),
                               ("identifier", r"\bidentifiers?\b")) if re.search(p, window, re.IGNORECASE)]
        out["technologies"] = tech
        life = [lf for lf, p in (("session", r"\bsession\b"), ("persistent", r"\bpersistent")) if re.search(p, window, re.I)]
        if life:
            out["lifetimes"] = life
        controls = [c for c, p in (("browser_settings", r"\bbrowser(?:'s)? settings|\bsettings of (?:your )?browser|"
                                                       r"\binternet browser settings"),
                                   ("clear_cookies", r"\bclear (?:all )?cookies|\bdelete (?:all )?cookies"))
                    if re.search(p, window, re.IGNORECASE)]
        if controls:
            out["user_controls"] = controls
            self.emit("cookies.user_controls", controls, self.first(r"\bsettings|\bclear", sents), 0.6, "cookies")
        if re.search(r"\bthird[- ]part(?:y|ies)\b.*\bcookies|\bcookies\b.*\bthird[- ]part", window, re.IGNORECASE):
            out["third_party_allowed"] = True
        out["rules"] = [self.rule(s, "cookies") for s in sents[1:8]]
        return out
