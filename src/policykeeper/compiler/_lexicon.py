"""Word lists and thresholds of the policy compiler, each with where it came from.

Every list here was written by hand for this project (licence: the project's own), from the vocabulary of the
pack format (pack/_*.py), the tag list of PROMISES.md and the five bundled policies; the Fides keys are names from
the ``fideslang`` default taxonomy (Apache-2.0). Nothing here was derived from OPP-115, PolicyQA, APP-350 or any
other corpus whose licence forbids commercial use. docs/compiler.md repeats this.
"""

from __future__ import annotations

import re

__all__ = [
    "AGE_WORDS",
    "BAYES_WEIGHT",
    "CATEGORY_RULES",
    "COMMITMENT",
    "COUNTRY_RULES",
    "HEADING_WEIGHT",
    "LIST_MIN_CHARS",
    "LIST_MIN_SCORE",
    "NOT_A_PROMISE",
    "ABOUT_THE_POLICY",
    "PARTIES",
    "NUMBER_WORDS",
    "PROMISE_MIN_CHARS",
    "PROMISE_MIN_SCORE",
    "PURPOSE_RULES",
    "RECIPIENT_RULES",
    "RIGHT_RULES",
    "SECURITY_RULES",
    "TAG_FAMILY",
    "TAG_RULES",
    "TIE_MARGIN",
]

NUMBER_WORDS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty-five": 45, "sixty": 60, "ninety": 90,
}
"""Numbers written in words, as policies write periods and ages ("within fifteen working days")."""

AGE_WORDS = NUMBER_WORDS

# -- promise detection ------------------------------------------------------------------------------------------

COMMITMENT = re.compile(
    r"\b(?:will|shall|must|may|can(?:not)?|won't|do not|does not|don't|never|only|promise|commit(?:ted)?|undertake|"
    r"ensure|agree|have the right|are entitled|right to|means that|signify|prohibit\w*|require[sd]?|retain\w*|"
    r"delete[sd]?|encrypt\w*|collect(?:s|ed)?|use[sd]?|shar(?:e|es|ed)|stored?|notify|inform|retained|limit|verify\w*|"
    r"protected|complain|request|comply|click|reset|edit|include[sd]?|withdraw|send|screen)\b",
    re.IGNORECASE,
)
"""Words of obligation or permission: a sentence without one makes no promise (hand-written)."""

NOT_A_PROMISE = re.compile(
    r"\brefers to\b|\bplease understand that\b|\bcannot guarantee\b|\bnot (?:completely|absolutely|100%) "
    r"secure\b|\byou should understand\b",
    re.IGNORECASE,
)
"""Definitions and disclaimers: they explain, they promise nothing (hand-written after reading the seeds)."""

ABOUT_THE_POLICY = re.compile(
    r"^(?:this|our|the) (?:privacy )?(?:policy|notice|statement) (?:governs|explains|describes|will help|sets out|"
    r"applies|is intended)|^(?:we hope|thank you for|please (?:\w+ )?(?:read|understand)|it is your responsibility)|"
    r"\bwe (?:encourage|invite|advise) (?:you|users)\b|\b(?:well aware of|recogni[sz]e) the importance\b|"
    r"\bdo (?:our|its|their) (?:utmost|best)\b|\b(?:continually |constantly )?strive to\b|"
    r"\brefer to the (?:corresponding|relevant) (?:\w+ )?guidelines|"
    r"^(?:our|this|the) (?:privacy )?(?:policy|notice) (?:may|is subject to) change\b|"
    r"^we may (?:revise|modify|update|amend|change)\b(?:,? (?:or )?\w+)*,? (?:the terms (?:of|in) )?(?:this|the|our) [\"“]?"
    r"(?:privacy )?(?:policy|notice)[\"”]? (?:from time to time|at any time)\.$",
    re.IGNORECASE,
)
"""Sentences about the policy itself, advice to the reader and statements of effort ("This Privacy Policy explains
how ...", "Please read this policy carefully", "we will do our utmost to ...", "We may revise this policy from time
to time" standing alone): they introduce, reassure or reserve a right, they promise nothing a test can check (the
promises about changes are how they are announced and accepted). Hand-written, from the usual wording of policies."""

PARTIES = re.compile(r"\b(?:we|us|our|ours|you|your|users?|customers?(?! service)|company|controller)\b|essential|optional",
                     re.IGNORECASE)
"""A sentence outside a list makes a promise only about the company or the reader; one naming neither ("Such
jurisdictions may have different laws", "Cookies usually contain identifiers") describes the world. A row of a
flattened table ("OptionalGender") names the field's requirement instead."""

PROMISE_MIN_CHARS = 30
"""A shorter sentence is a fragment or a label (chosen by reading the five seeds' shortest promises, 40+ chars)."""

LIST_MIN_CHARS = 12
"""A list item (or a line after a sentence ending in ':') may be shorter: it continues its lead-in sentence."""

LIST_MIN_SCORE = 1.0
"""Cue weight a list item needs (its lead-in already made the commitment)."""

BAYES_WEIGHT = 1.0
"""Weight of the naive Bayes probability next to the cue hits (tried 0, 0.5, 1, 4, 8 on the bench)."""

HEADING_WEIGHT = 0.0
"""Weight of each cue hit in the heading above a sentence ("Your Rights", "Cookies"), tried 0, 0.75, 1.5, 3."""

TIE_MARGIN = 0.25
"""Tags whose weights differ by less than this are a tie, broken by cue hits in the heading above the sentence
(tried 0.01, 0.1, 0.25, 0.5, 0.75, 1.0 on the bench: promise recall 0.785, 0.792, 0.789, 0.781, 0.766, 0.770)."""

PROMISE_MIN_SCORE = 1.0
"""Keyword score a sentence needs to be drafted as a promise (tuned on the five seeds; see docs/compiler.md)."""

TAG_RULES: dict[str, tuple[str, ...]] = {
    "collection": (r"\bcollect", r"\bprovide (?:us|the following)", r"\bgather", r"\bessential\b", r"\boptional\b",
                   r"\bregist(?:er|ration)", r"\bautomatically\b", r"\bminimum\b.*\bnecessary", r"\brefus\w+ to provide",
                   r"\b(?:do not|don't|choose not to) provide (?:this|the|such|these|your)"),
    "consent": (r"\bconsent", r"\bagree\b", r"\bauthori[sz](?:e|es|ation)\b", r"\bpermission",
                r"\b(?:unless|until) (?:\w+ ){0,4}(?:consent|authori[sz]|agree)|\bobtain\w* (?:\w+ ){0,2}consent|"
                r"\bconfirmation of (?:[\w']+ ){0,2}consent|\bexplicitly authori[sz]e|\bchoose not to\b",
                r"\bacceptance\b", r"\bwithdraw", r"\bsignify",
                r"\b(?:collect|use|process)\w* (?:\w+ ){0,5}without (?:\w+ ){0,3}(?:consent|authori[sz]ation)"),
    "purpose": (r"\bpurposes?\b", r"\bused? (?:it |them |your \w+ )?(?:to|for)\b", r"\bin order to\b", r"\bimprove",
                r"\banaly[sz]"),
    "sharing": (r"\bshar(?:e|ing)", r"\bthird[- ]part(?:y|ies)", r"\bdisclos", r"\bpartners?\b", r"\bsell\b",
                r"\baffiliate", r"\bmerger|\bacquisition|\bbankruptcy", r"\bservice providers?\b", r"\bentrust"),
    "retention": (r"\bretain", r"\bretention", r"\bstor(?:e|age) .*\b(?:period|time|long)", r"\bkeep\b",
                  r"\bperiod\b", r"\bpreserv"),
    "erasure": (r"\bdelet", r"\berase", r"\banonymi[sz]", r"\bdestroy", r"\bcancel\w* (?:the |your )?account"),
    "backup": (r"\bbackup", r"\bback-up", r"\barchiv"),
    "rights": (r"\byou (?:can|may|have the right)|\bright to\b", r"\baccess\b", r"\bcorrect", r"\brectif",
               r"\bportab|\bmachine[- ]readable", r"\bobject to\b", r"\bopt[- ]out\b",
               r"\brequest (?:the )?(?:access|correction|deletion|erasure|a copy)|\ba copy of (?:it|your)"),
    "verification": (r"\bverif\w+ (?:your )?identity", r"\bidentity verification", r"\bprove (?:your )?identity",
                     r"\bwritten request", r"\bverify (?:all |the |your |each )?requests?"),
    "deadline": (r"\bwithin \w+ (?:working |business |calendar )?days", r"\brespond\b", r"\breply\b",
                 r"\bfeedback\b", r"\bprocess(?:ed)? (?:your )?request", r"\btime ?(?:lines?|limits?|frames?) (?:prescribed|"
                 r"required|set)"),
    "fee": (r"\bfee\b", r"\bfree of charge", r"\bcharge\b", r"\bcost\b"),
    "refusal": (r"\brefuse (?:to respond|your request|requests)", r"\bnot (?:be able to )?respond",
                r"\bunable to respond", r"\brepeated\w*", r"\bexcessive"),
    "minors": (r"\bminors?\b", r"\bchild(?:ren)?\b", r"\bunder the age", r"\bguardian", r"\bparent", r"\bunderage"),
    "transfer": (r"\bcross[- ]border", r"\bacross borders", r"\boutside (?:of )?(?:the )?(?:people's|china|country|your)",
                 r"\boverseas", r"\babroad", r"\bglobal transfer", r"\bstored? (?:\w+ ){0,6}(?:within|in) (?:china|the)",
                 r"\bterritory", r"\bserver", r"\bjurisdictions?\b", r"\bwithin (?:its|the|our) (?:borders|territory)",
                 r"\bbefore (?:the )?transfer", r"\binformation export|\bexport\w* (?:of )?(?:your )?(?:personal )?"
                 r"(?:information|data)", r"\bplace of processing",
                 r"\b(?:equivalent|adequate|same level of) protection|\bprotection equivalent|"
                 r"\badequately and equally protected", r"\bwithin (?:the )?(?:territory|borders) of\b"),
    "security": (r"\bsecur", r"\bencrypt", r"\bssl\b|\btls\b|\bhttps\b", r"\bunauthori[sz]ed access", r"\bprotect",
                 r"\bconfidential", r"\baccess control", r"\bneed[- ]to[- ]know|\blimit access|\bonly authori[sz]ed "
                 r"(?:personnel|employees|staff)", r"\bscreen\w* (?:\w+ )?(?:service providers|employees|staff)",
                 r"\b(?:complex|strong) password"),
    "breach": (r"\bincident", r"\bbreach", r"\bleak", r"\binform (?:\w+ ){0,4}one by one", r"\bsecurity incidents?"),
    "change": (r"\bupdat(?:e|ed|ing) (?:this|the|our)? ?[\"“]?(?:privacy )?(?:policy|version)", r"\bchanges? to (?:this|the)",
               r"\b(?:major|significant|material) changes?", r"\breduce (?:\w+ ){0,2}rights",
               r"\brevis", r"\bmodif\w+ (?:this|the) (?:privacy )?policy", r"\bcontinue\w* (?:to )?use",
               r"\bcease\w* (?:operation|service)", r"\beffective date"),
    "marketing": (r"\bmarketing", r"\badvertis", r"\binformation (?:they|you) (?:have )?agreed to receive|\bsend (?:you|users) "
                  r"(?:\w+ ){0,3}(?:surveys|questions|offers|promotions?|promotional|newsletters|alerts)",
                  r"\bpersonali[sz]ed (?:display|recommendation|content)", r"\bpromotion", r"\bnewsletter", r"\bunsubscribe",
                  r"\bcommercial (?:messages|information)"),
    "cookies": (r"\bcookies?\b", r"\bweb beacons?", r"\bpixel", r"\btracking technolog", r"\bidentifiers?\b",
                r"\blocal storage", r"\b(?:disable|block|delete|clear|deactivate|refus)\w*,? (?:\w+,? ){0,3}cookies"),
    "automated-decision": (r"\bautomat\w+ decision", r"\bsolely (?:by )?automat", r"\bprofiling"),
    "contact": (r"\bcontact us", r"\bquestions?\b", r"\bcomplain", r"@[\w.-]+\.\w+", r"\bemail:",
                r"\bdata protection officer|\bprivacy office", r"\bnot satisfied with (?:our|the) (?:reply|response|answer)"),
    "other": (r"\bglossary|\bexplanations?\b", r"\bprevail", r"\blanguage version", r"\bnot responsible for\b",
              r"\blinks? to (?:other|third[- ]party) (?:sites|websites)"),
}
"""Cue patterns per PROMISES.md tag (hand-written from the pack format's vocabulary)."""

TAG_FAMILY: dict[str, str] = {
    "collection": "collection", "consent": "collection", "purpose": "collection",
    "sharing": "sharing", "transfer": "sharing",
    "retention": "lifecycle", "erasure": "lifecycle", "backup": "lifecycle",
    "rights": "rights", "verification": "rights", "deadline": "rights", "fee": "rights", "refusal": "rights",
    "contact": "rights", "automated-decision": "rights",
    "minors": "minors",
    "security": "security", "breach": "security",
    "change": "change",
    "marketing": "marketing", "cookies": "marketing",
    "other": "other",
}
"""Tag families for the bench: a drafted promise matches a hand-written one of the same family (docs/compiler.md)."""

# -- data categories (fides keys from the fideslang default taxonomy) ---------------------------------------------

CATEGORY_RULES: tuple[tuple[str, str, str, str, str], ...] = (
    # id, pattern, fides key, class, origin
    ("email", r"\be-?mail(?: address)?(?:es)?\b", "user.contact.email", "contact", "user_provided"),
    ("phone", r"\b(?:phone|mobile|telephone|contact) numbers?\b|\bmobile phone\b", "user.contact.phone_number",
     "contact", "user_provided"),
    ("name", r"(?<!user )(?<!browser )(?<!model )(?<!brand )\bnames?\b(?! of)", "user.name", "identity", "user_provided"),
    ("postal_address", r"(?<!e-mail )(?<!email )(?<!ip )(?<!mac )\b(?:postal |mailing |home |delivery )?address(?:es)?\b",
     "user.contact.address", "contact", "user_provided"),
    ("ip_address", r"\bip address", "user.device.ip_address", "device_id", "auto_generated"),
    ("precise_location", r"\b(?:precise |geographic |geo-?)?location\b|\bgps\b|\bcoordinates\b",
     "user.location.precise", "location_precise", "device_permission"),
    ("device_info", r"\bdevice (?:information|info|model|identifiers?|id|type)\b|\bimei\b|\bmac address|\bmobile device",
     "user.device", "log", "auto_generated"),
    ("cookie_identifiers", r"\bcookies?\b", "user.device.cookie_id", "cookie", "auto_generated"),
    ("browsing", r"\bbrowsing\b|\bbrowser type|\bpages? (?:you )?visit", "user.behavior.browsing_history", "log",
     "auto_generated"),
    ("usage_logs", r"\blog (?:information|data|files?)\b|\busage (?:information|data|records?|history)\b|"
     r"\bservice usage", "user.behavior", "log", "auto_generated"),
    ("search_history", r"\bsearch (?:history|items?|records?|terms?)\b", "user.behavior.search_history", "usage",
     "auto_generated"),
    ("purchase_history", r"\b(?:purchase|order|transaction|payment) (?:history|records?|details|information)\b",
     "user.behavior.purchase_history", "financial", "user_provided"),
    ("payment_card", r"\b(?:bank|credit|debit) cards?\b|\bbank account", "user.financial", "financial", "user_provided"),
    ("date_of_birth", r"\bdate of birth\b|\bbirthday\b|\bbirth date\b", "user.demographic.date_of_birth", "identity",
     "user_provided"),
    ("gender", r"\bgender\b|\bsex\b", "user.demographic.gender", "identity", "user_provided"),
    ("password", r"\bpasswords?\b", "user.authorization.password", "credential", "user_provided"),
    ("government_id", r"\bid card|\bidentity card|\bpassport|\bnational id|\bidentity document",
     "user.government_id", "identity", "user_provided"),
    ("health", r"(?<!public )\bhealth\b(?! crisis)|\bmedical\b", "user.health_and_medical", "sensitive", "user_provided"),
    ("biometric", r"\bbiometric|\bfingerprint|\bfacial recognition|\bface (?:id|information)", "user.biometric",
     "sensitive", "user_provided"),
    ("photos", r"\bphotos?\b|\bimages?\b|\bpictures?\b|\bavatar", "user.content", "content", "user_provided"),
    ("account", r"\baccount (?:name|number|information|id)\b|\busername|\buser name|\bnickname",
     "user.account", "identity", "user_provided"),
    ("unique_id", r"\buuid\b|\bunique (?:device )?identifiers?\b|\badvertising id|\bpush id|\bapp id",
     "user.unique_id", "device_id", "auto_generated"),
)
"""Data categories the compiler recognises, keyword -> fides key (hand-written; keys checked against fideslang)."""

PURPOSE_RULES: tuple[tuple[str, str, str], ...] = (
    # id, pattern, fides data use
    ("provide_services", r"\bprovid\w* (?:you with )?(?:our |the |these )?(?:products? (?:and|or) )?services?\b|"
     r"\bservice provision\b|\bcontract performance", "essential.service"),
    ("authentication", r"\bidentity verification|\bverify (?:your )?identity|\bauthenticat|\blog ?in\b",
     "essential.service.authentication"),
    ("customer_support", r"\bcustomer (?:service|support)|\b(?:handle|handling|respond to) (?:your )?(?:inquir|complain)",
     "essential.service.operations.support"),
    ("security", r"\bsecurity (?:protection|prevention)|\bservice security|\bsafety and security|\bensure security",
     "essential.service.security"),
    ("fraud_prevention", r"\bfraud", "essential.fraud_detection"),
    ("payment", r"\bpayment processing|\bprocess(?:ing)? (?:your )?payments?|\bfee (?:collection|settlement)",
     "essential.service.payment_processing"),
    ("notifications", r"\bnotifications?\b|\bpush messages", "essential.service.notifications"),
    ("improve_services", r"\bimprov\w* (?:our |the )?(?:products?|services?|apps?)|\bnew services?\b|"
     r"\bdevelop\w* (?:of )?new", "functional.service.improve"),
    ("analytics", r"\bstatistic\w*|\banaly[sz]\w* (?:of )?(?:service )?usage|\busage patterns", "analytics.reporting"),
    ("personalisation", r"\bpersonali[sz]\w*|\bcustomi[sz]ed (?:services?|content)|\brecommend", "personalize"),
    ("advertising", r"\badvertis", "marketing.advertising"),
    ("marketing_messages", r"\bmarketing\b|\bpromotion\w*|\bnewsletters?|\bsurveys?", "marketing.communications"),
    ("legal_obligation", r"\blegal (?:purposes|obligations?|requirements?)|\bcomply with (?:applicable )?laws?",
     "essential.legal_obligation"),
)
"""Purposes the compiler recognises, keyword -> Fides data use (hand-written; keys checked against fideslang)."""

RIGHT_RULES: tuple[tuple[str, str], ...] = (
    ("access", r"\baccess,|\baccess (?:your|to your|the) (?:personal )?(?:information|data)|\bquery\b|\bconsult\b|\bview your"),
    ("correct", r"\bcorrect(?:ion)?\b|\brectif|\bupdat\w* (?:your )?(?:personal )?(?:information|data)|\bmodify (?:your )"),
    ("delete", r"\bdelet\w* (?:your )?(?:personal )?(?:information|data)|\brequest (?:the )?delet|\berasure\b|\bdelete\b"),
    ("withdraw_consent", r"\bwithdraw\w* (?:your )?(?:\w+ )?(?:consent|authori[sz]ation)|"
     r"\brevok\w* (?:your )?(?:consent|authori)"),
    ("cancel_account", r"\b(?:can|may|apply to|request to|right to)\b[^.]*\b(?:cancel\w* (?:your |the )?(?:\w+ ){0,2}"
     r"account|deregist\w*|close your account)|\baccount cancellation"),
    ("copy", r"\b(?:obtain|get|receive) a copy|\bcopy of (?:your )?personal"),
    ("portability", r"\bportab|\bmachine-readable|\btransfer (?:your personal information )?to a third party (?:you )?designat"),
    ("object", r"\bobject to\b"),
    ("restrict", r"\brestrict (?:the )?processing|\brestriction of\b"),
    ("complain_authority", r"\b(?:supervisory|data protection|data privacy|regulatory|competent) authorit|"
     r"\bfile a complaint with"),
    ("automated_decision_explanation", r"\bautomat\w+ decision"),
)
"""Rights, by the words policies use for them (hand-written from the pack's RightType list)."""

SECURITY_RULES: tuple[tuple[str, str], ...] = (
    ("encryption_in_transit", r"\bssl\b|\btls\b|\bencrypt\w* (?:\w+ ){0,4}(?:transmi|transit)"),
    ("https", r"\bhttps\b"),
    ("encryption_at_rest", r"\bencrypt\w* (?:\w+ ){0,4}stor|\bencrypted storage"),
    ("industry_standard_measures", r"\bindustry[- ]standard|\bmature (?:security )?(?:standards|measures)|"
     r"\bstandards in the industry|\breasonable (?:security )?(?:measures|practicable)"),
    ("access_control_need_to_know", r"\baccess control|\bauthori[sz]ed (?:personnel|employees|staff)|\bneed to know"),
    ("confidentiality_obligation", r"\bconfidentiality (?:agreements?|obligations?)|\bobligations? of confidentiality"),
    ("staff_training", r"\b(?:staff|employees?|personnel)\b[^.]*\btraining|\btraining\b[^.]*\b(?:staff|employees?|personnel)"),
    ("anti_attack", r"\banti-?attack|\bfirewall|\b(?:prevent|defen[cd]|protect)\w* (?:\w+ ){0,3}(?:against )?(?:\w+ )?attacks?"),
    ("loss_and_misuse_prevention", r"\bprevent\w* (?:the )?(?:loss|leak|unauthori[sz]ed)|\bloss, "),
    ("dedicated_privacy_department", r"\bdedicated (?:\w+ )?(?:department|team|personnel)|\bprivacy (?:department|officer)"),
    ("audit_logging", r"\baudit (?:logs?|trails?)|\blog audit"),
)
"""Security measures, by their usual words (hand-written from the pack's SecurityControl kinds)."""

RECIPIENT_RULES: tuple[tuple[str, str, str, bool], ...] = (
    # id, pattern, pack recipient category, outside the controller
    ("service_providers", r"(?<!payment )(?<!sdk )\bservice providers?\b|\bsuppliers?\b|\bvendors?\b", "service_provider", True),
    ("advertisers", r"\badvertisers?\b|\badvertising (?:partners|networks?)|\bad networks?", "advertiser_or_agent", True),
    ("affiliates", r"\baffiliat\w+|\bsubsidiar\w+", "affiliate", False),
    ("payment_providers", r"\bpayment (?:service )?(?:providers?|institutions?|processors?)", "payment", True),
    ("authorities", r"\blaw enforcement|\bgovernment(?:al)? (?:authorit\w+|agenc\w+)|\bjudicial (?:organs|authorit\w+)",
     "authority", True),
    ("logistics", r"\blogistics\b|\bdelivery (?:companies|partners|services)|\bcouriers?\b", "logistics", True),
    ("sdk_providers", r"\bsdks?\b", "processor_sdk", True),
    ("business_partners", r"\bauthori[sz]ed partners|\bbusiness partners|\bthird-party partners", "authorized_partner",
     True),
    ("analytics_providers", r"\banalytics (?:providers?|services?|partners)|\bgoogle analytics", "analytics", True),
)
"""Kinds of recipient, by the words policies use for them (hand-written from the pack's RecipientCategory list)."""

COUNTRY_RULES: tuple[tuple[str, str], ...] = (
    ("CN", r"\b(?:within |in )(?:the territory of )?(?:the )?(?:people's republic of china|prc|mainland china|china)\b"),
    ("US", r"\b(?:within |in )(?:the )?(?:united states|usa|u\.s\.)\b"),
    ("EU", r"\b(?:within |in )(?:the )?(?:european union|eea|eu)\b"),
    ("LA", r"\b(?:within |in )(?:the )?(?:lao pdr|laos)\b"),
    ("KR", r"\b(?:within |in )(?:the )?(?:republic of korea|south korea|korea)\b"),
)
"""Storage regions: 'stored in China' -> CN (hand-written)."""
