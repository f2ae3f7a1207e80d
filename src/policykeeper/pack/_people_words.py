"""Plain words for the pack's keys, for the people's notice (``_people``): legal bases, grounds, rights, channels,
durations, end actions, security measures... Each value is an English message id, translated with the pages'
catalogues (``web/locale/zh_Hans/LC_MESSAGES/policypage.po``); a key without an entry here is shown as the pack's
own words."""

from __future__ import annotations

__all__ = ["BASIS", "BREACH_CONTENT", "END", "GROUNDS", "HANDLES", "KEEP", "LANGUAGES", "PRECONDITION", "RIGHTS",
           "SECURITY", "START", "SYMBOLIC", "TABLES", "TECH", "TERMS"]

BASIS = {
    "consent": "We do this only with your consent.",
    "explicit_consent": "We do this only with your explicit consent.",
    "separate_consent": "We do this only with your separate consent.",
    "parental_consent": "For a child, we do this only with a parent's consent.",
    "implied_by_use": "We do this when you use the service.",
    "contract": "We need this to give you the service you asked for.",
    "legal_obligation": "The law requires us to do this.",
    "legitimate_operation_security": "We need this to keep the service safe and working.",
    "legitimate_interest": "We do this because we have a legitimate interest in it.",
    "vital_interest_emergency": "We do this to protect someone's life or health in an emergency.",
    "public_interest": "We do this in the public interest.",
}

GROUNDS = {
    "national_security": "national security", "national_defense": "national defence",
    "public_security": "public safety", "public_health": "public health",
    "major_public_interest": "an important public interest", "public_importance": "an important public interest",
    "criminal_proceedings": "a criminal investigation or trial", "protect_vital_interests": "to protect someone's life",
    "protect_rights_or_property": "to protect rights or property",
    "protect_users_or_customers": "to protect our users or customers",
    "publicly_disclosed_by_subject": "data you made public yourself",
    "lawfully_public_source": "data lawfully made public", "contract_necessity": "to carry out a contract with you",
    "contract_necessity_consent_impractical": "to carry out a contract with you when asking first is not practical",
    "safe_operation": "to keep the service safe", "news_reporting": "news reporting",
    "academic_research_deidentified": "research with data that no longer identifies you",
    "legal_requirement": "when the law requires it", "legal_obligation": "when the law requires it",
    "government_requirement": "when a government requires it",
    "legal_regulatory_requirement": "when the law or a regulator requires it",
    "litigation_dispute": "a legal dispute", "administrative_or_judicial_request": "an order of a court or authority",
    "enforce_policy": "to enforce our policies", "enforce_terms": "to enforce our terms",
    "good_faith_legal_requirement": "when we believe in good faith that the law requires it",
    "emergency_life_health_safety": "an emergency that threatens someone's life, health or safety",
    "complaint_handling": "to handle a complaint", "violation_disclosure": "to report a violation",
    "corporate_transaction": "a merger, sale or similar change of our business",
    "malice_or_abuse_of_rights": "a request made in bad faith",
    "serious_harm_to_rights": "serious harm to someone's rights", "trade_secret": "our trade secrets",
    "other_provided_by_law": "other cases the law provides for",
}

RIGHTS = {
    "access": "See the data we hold about you.", "copy": "Get a copy of your data.",
    "correct": "Have wrong or missing data corrected.", "delete": "Have your data deleted.",
    "restrict": "Have us limit how we use your data.", "object": "Object to how we use your data.",
    "withdraw_consent": "Withdraw a consent you gave.",
    "portability": "Get your data in a machine-readable file, or have it sent to another organisation.",
    "cancel_account": "Close your account.", "clear_history": "Clear your history.",
    "automated_decision_explanation": "Get an explanation of a decision made by a computer alone.",
    "complain_internal": "Complain to us.", "complain_authority": "Complain to a data protection authority.",
    "manage_account": "Manage your account and its settings.",
}

TERMS = {  # channels, controls and means named by a key in packs
    "email": "email", "postal": "post", "letter": "letter", "phone": "phone", "push": "app notification",
    "sms": "text message", "call": "phone call", "in_app": "the app", "website": "our website",
    "page": "our website", "prominent_notice": "a clear notice", "version_update_prompt": "a prompt when you update",
    "other_appropriate_means": "other suitable means", "announcement": "a public announcement",
    "settings": "the settings", "account_settings": "your account settings", "app_settings": "the app's settings",
    "os_settings": "your phone's settings", "self_service": "this privacy center",
    "authorization_page": "the permissions page", "contact": "contacting us", "contact_dpo": "our privacy officer",
    "unsubscribe_link": "the unsubscribe link", "unsubscribe_link_in_message": "the unsubscribe link in each message",
    "mailing_list_unsubscribe": "unsubscribing from the mailing list", "browser_settings": "your browser's settings",
    "block": "blocking them", "delete": "deleting them", "disable": "turning them off", "manage": "managing them",
    "unsubscribe": "unsubscribing", "cancel_account": "closing your account", "close_account": "closing your account",
    "clear_history": "clearing your history", "settings_delete": "deleting it in the settings",
}

SYMBOLIC = {
    "immediately": "at once", "promptly": "promptly", "asap": "as soon as possible",
    "reasonable_period": "within a reasonable time", "per_applicable_law": "within the time the law sets",
}

KEEP = {
    "necessary_for_purpose": "only as long as we need it for the purposes above",
    "shortest_necessary": "for the shortest time we need it",
    "per_applicable_law": "for as long as the law requires",
    "until_user_clears": "until you clear it",
    "until_account_cancelled": "until you close your account",
    "while_using_service": "while you use the service",
    "indefinite": "with no end date",
    "reasonable_period": "for a reasonable time",
}

START = {
    "collection": "from when we collect it", "purpose_end": "after the purpose ends",
    "account_cancelled": "after you close your account", "service_ceased": "after the service ends",
    "user_clear_action": "after you clear it", "last_use": "from when you last use the service",
    "transaction": "from the transaction",
}

END = {
    "delete": "Then we delete it.", "anonymize": "Then we make it anonymous.",
    "delete_or_anonymize": "Then we delete it or make it anonymous.", "destroy": "Then we destroy it.",
    "restrict_access": "Then we lock it so no one can use it.",
    "erase_destroy_anonymize_or_restrict": "Then we delete it, make it anonymous, or lock it so no one can use it.",
}

SECURITY = {
    "industry_standard_measures": "Security measures that meet the industry's standards.",
    "encryption_in_transit": "Encryption while data travels.", "https": "Secure connections (HTTPS).",
    "encryption_at_rest": "Encryption of stored data.",
    "access_control_need_to_know": "Only staff who need the data can see it.",
    "confidentiality_obligation": "Everyone who handles your data must keep it confidential.",
    "dedicated_privacy_department": "A team dedicated to protecting personal data.",
    "staff_training": "Regular privacy and security training for staff.",
    "provider_screening": "We check our service providers before they start.",
    "audit_logging": "A record of who did what with the data.",
    "incident_records": "A record of every security incident.", "password_complexity": "Strong passwords.",
    "anti_attack": "Protection against attacks.",
    "loss_and_misuse_prevention": "Measures against loss, misuse and unauthorised access.",
    "storage_media_controls": "Controls on the media data is stored on.",
    "equal_protection_non_members": "The same protection whether or not you have an account.",
    "user_advisory": "Advice to help you protect your own data.",
    "liability": "We take responsibility for harm caused by a breach of our duties.",
}

TECH = {
    "cookie": "cookies", "web_beacon": "web beacons", "pixel_tag": "pixel tags", "tag": "tags", "script": "scripts",
    "html5_lso": "local storage in your browser", "local_storage": "local storage in your browser",
    "advertising_id": "advertising identifiers", "identifier": "device identifiers",
}

PRECONDITION = {
    "consent": "you agree", "security_assessment": "a security assessment has been passed",
    "de_identification": "the data no longer identifies you", "inform": "we have told you about it",
}

BREACH_CONTENT = {
    "basic_situation": "what happened", "possible_impact": "what it may mean for you",
    "measures_taken_or_planned": "what we are doing about it", "subject_prevention_advice": "how you can protect yourself",
    "remedies": "how you can get it put right",
}

HANDLES = {
    "questions": "questions", "rights_requests": "requests about your data", "complaints": "complaints",
    "account_cancellation": "closing your account", "corrections": "corrections",
}

LANGUAGES = {"en": "English", "zh": "Chinese", "ko": "Korean", "lo": "Lao", "ja": "Japanese"}

TABLES = (BASIS, GROUNDS, RIGHTS, TERMS, SYMBOLIC, KEEP, START, END, SECURITY, TECH, PRECONDITION,
          BREACH_CONTENT, HANDLES, LANGUAGES)
"""Every table, to check that each of their words is translated."""
