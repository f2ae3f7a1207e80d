"""The database tables. Personal values appear only as ciphertext; people only as pseudonymous ids."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "audit_log",
    "chain_heads",
    "consent_events",
    "deletion_queue",
    "disclosures",
    "fact_register",
    "anonymous_aggregates",
    "incident_notices",
    "incidents",
    "lifecycle_events",
    "login_codes",
    "rate_events",
    "message_log",
    "metadata",
    "policy_versions",
    "privacy_department",
    "outbox",
    "record_keys",
    "records",
    "request_codes",
    "requests",
    "retention_runs",
    "subjects",
    "trackers",
    "training_sessions",
    "transfer_assessments",
    "web_sessions",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

subjects = Table(
    "subjects",
    metadata,
    Column("id", String(32), primary_key=True, comment="pseudonymous id, random"),
    Column("lookup", String(64), nullable=False, unique=True, comment="keyed hash of the app's identifier"),
    Column("pack_id", String(64), nullable=False),
    Column("kek_id", String(16), nullable=True, comment="master key that wraps the data key"),
    Column("wrapped_key", LargeBinary, nullable=True, comment="data key, wrapped; NULL once shredded"),
    Column("status", String(16), nullable=False, default="active"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    Column("language", LargeBinary, nullable=True,
           comment="the language the person last used with us (notices to many people are written in it): AES-GCM "
                   "under the subject's data key; NULL when unknown"),
)

records = Table(
    "records",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("subject_id", String(32), ForeignKey("subjects.id"), nullable=False),
    Column("pack_id", String(64), nullable=False),
    Column("pack_version", String(64), nullable=False),
    Column("context", String(64), nullable=False),
    Column("category", String(64), nullable=False),
    Column("purposes", JSON, nullable=False),
    Column("channel", String(32), nullable=True),
    Column("source", String(64), nullable=True, comment="the entity the value was obtained from, if not the person"),
    Column("value", LargeBinary, nullable=False, comment="AES-GCM ciphertext under the subject's data key"),
    Column("collected_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    Column("legal_hold", Boolean, nullable=False, default=False),
    Column("legal_hold_ref", String(120), nullable=True, comment="the legal matter a hold is for (no personal data)"),
    Column("key_id", String(32), nullable=True,
           comment="the record group's data key (record_keys); NULL: the subject's own key (before 0010)"),
    Index("ix_records_subject_category", "subject_id", "category"),
    Index("ix_records_key", "key_id"),
)

record_keys = Table(
    "record_keys",
    metadata,
    Column("id", String(32), primary_key=True, comment="random; journalled as rk:<id> once destroyed"),
    Column("subject_id", String(32), ForeignKey("subjects.id"), nullable=False),
    Column("category", String(64), nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False, comment="the group's data key, wrapped by the subject's key"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subject_id", "category"),
    comment="one data key per person and category: deleting part of a person's data destroys that part's key",
)

consent_events = Table(
    "consent_events",
    metadata,
    Column("seq", _ID, primary_key=True, autoincrement=False),
    Column("subject_id", String(32), nullable=False),
    Column("pack_id", String(64), nullable=False),
    Column("pack_version", String(64), nullable=False),
    Column("target", String(128), nullable=False, comment="consent rule, purpose or recipient id"),
    Column("action", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_consent_events_subject", "subject_id", "seq"),
)

disclosures = Table(
    "disclosures",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("subject_id", String(32), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("categories", JSON, nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("ground", Text, nullable=True),  # the stated grounds, joined by commas
    Column("decision_id", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_disclosures_subject", "subject_id"),
)

transfer_assessments = Table(
    "transfer_assessments",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("pack_id", String(64), nullable=False),
    Column("destination", String(64), nullable=False, comment="region or recipient id the assessment covers"),
    Column("outcome", String(16), nullable=False, comment="adequate or inadequate"),
    Column("reference", String(200), nullable=False, comment="the assessment document, e.g. a filing number"),
    Column("assessed_at", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=True),
    Column("recorded_by", String(64), nullable=False),
    Index("ix_transfer_assessments_destination", "pack_id", "destination"),
    comment="cross-border security assessments, the record a transfer rule can require before data leaves",
)

deletion_queue = Table(
    "deletion_queue",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("subject_id", String(32), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("promises", JSON, nullable=False),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False, comment="pending, done or cancelled"),
    Column("done_at", DateTime(timezone=True), nullable=True),
    Index("ix_deletion_queue_status", "status", "due_at"),
    comment="subjects whose data must be deleted (e.g. a minor found without parental consent)",
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("pack_id", String(64), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False, comment="start of the time window affected"),
    Column("ended_at", DateTime(timezone=True), nullable=True, comment="end of the window; NULL while ongoing"),
    Column("systems", JSON, nullable=False),
    Column("categories", JSON, nullable=False, comment="data categories involved (pack ids)"),
    Column("reference", String(120), nullable=False, comment="the incident ticket or report id; never personal data"),
    Column("harm_to_subjects", Boolean, nullable=False),
    Column("liability", Boolean, nullable=False, comment="the pack accepts legal responsibility for this harm"),
    Column("steps", JSON, nullable=False, comment="record-keeping steps done: [{step, at, actor, reference}]"),
    Column("status", String(16), nullable=False, comment="open or closed"),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    comment="security incidents and the records the pack promises for each",
)

requests = Table(
    "requests",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("ref", String(32), nullable=False, unique=True, comment="random reference the person quotes"),
    Column("pack_id", String(64), nullable=False),
    Column("pack_version", String(64), nullable=False, comment="the version the request was received under"),
    Column("kind", String(24), nullable=False, comment="rights_request, general_question or complaint"),
    Column("right", String(40), nullable=True, comment="access, delete, correct... for a rights request"),
    Column("lookup", String(64), nullable=False, comment="keyed hash of the person's identifier"),
    Column("subject_id", String(32), nullable=True),
    Column("kek_id", String(16), nullable=True),
    Column("wrapped_key", LargeBinary, nullable=True, comment="the request's own data key, wrapped"),
    Column("contact", LargeBinary, nullable=True, comment="the reply address, AES-GCM under the request key"),
    Column("content", LargeBinary, nullable=True,
           comment="what the person asked (a note, the item to correct and its new value) and staff notes: AES-GCM "
                   "JSON under the request key; NULL when nothing was said"),
    Column("language", LargeBinary, nullable=True,
           comment="the language the person made the request in (every mail about it is written in it): AES-GCM "
                   "under the request key; NULL when none was said"),
    Column("status", String(16), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("verified_at", DateTime(timezone=True), nullable=True),
    Column("due_at", DateTime(timezone=True), nullable=True, comment="NULL when the pack gives no fixed deadline"),
    Column("deadline", String(40), nullable=False, comment="the pack's deadline as words, e.g. 30 calendar_days"),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("refusal_ground", String(64), nullable=True),
    Column("detail", JSON, nullable=False, comment="outcome facts without personal values"),
    Index("ix_requests_status_due", "status", "due_at"),
    Index("ix_requests_lookup", "lookup"),
)

request_codes = Table(
    "request_codes",
    metadata,
    Column("request_id", _ID, ForeignKey("requests.id"), primary_key=True),
    Column("code_hash", String(64), nullable=False, comment="keyed hash of the one-time code"),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used", Boolean, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False, comment="e.g. erasure_notice"),
    Column("request_ref", String(32), nullable=True),
    Column("recipient", String(64), nullable=False),
    Column("kek_id", String(16), nullable=True),
    Column("wrapped_key", LargeBinary, nullable=True, comment="the message's own key; destroyed once delivered"),
    Column("payload", LargeBinary, nullable=True, comment="AES-GCM JSON; NULL once delivered"),
    Column("status", String(16), nullable=False, comment="pending, sent or dead"),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", String(200), nullable=True, comment="what went wrong, never the message"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
    comment="messages to recipients (erasure notices), delivered with retries and a dead-letter state",
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", _ID, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("subject_id", String(32), nullable=True),
    Column("decision_id", String(32), nullable=True),
    Column("allowed", Boolean, nullable=True),
    Column("promises", JSON, nullable=False),
    Column("pack_version", String(64), nullable=True),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

chain_heads = Table(
    "chain_heads",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("seq", _ID, nullable=False),
    Column("hash", String(64), nullable=False),
    comment="the last entry of each hash chain; locked while appending",
)


lifecycle_events = Table(
    "lifecycle_events",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("pack_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False, comment="account_cancelled, purpose_ended, service_ceased, history_cleared"),
    Column("subject_id", String(32), nullable=True, comment="NULL: the event concerns everyone (e.g. a shutdown)"),
    Column("purpose", String(64), nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_lifecycle_events_kind", "pack_id", "kind"),
    comment="events that start a retention period: the retention sweep reads them",
)

retention_runs = Table(
    "retention_runs",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("pack_id", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("dry_run", Boolean, nullable=False),
    Column("status", String(16), nullable=False, comment="running, done or failed"),
    Column("actor", String(64), nullable=False),
    Column("detail", JSON, nullable=False, comment="per rule: records deleted, anonymised, restricted, held; no values"),
    comment="each retention sweep and what it did",
)

anonymous_aggregates = Table(
    "anonymous_aggregates",
    metadata,
    Column("pack_id", String(64), primary_key=True),
    Column("category", String(64), primary_key=True),
    Column("purpose", String(64), primary_key=True, comment="'' when the records served several purposes"),
    Column("period", String(7), primary_key=True, comment="YYYY-MM of collection"),
    Column("count", BigInteger, nullable=False),
    comment="what anonymisation at the end of retention leaves: counts, with no person behind them",
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("pack_id", String(64), nullable=False),
    Column("label", String(64), nullable=False),
    Column("digest", String(64), nullable=False, comment="the compiled pack's version digest"),
    Column("document", JSON, nullable=False, comment="the pack itself (policy text, no personal data)"),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("notice_at", DateTime(timezone=True), nullable=False, comment="when people were told"),
    Column("effective_at", DateTime(timezone=True), nullable=False),
    Column("significant", Boolean, nullable=False),
    Column("changes", JSON, nullable=False),
    Column("published_by", String(64), nullable=False),
    UniqueConstraint("pack_id", "digest"),
    comment="every published version of a pack, with its diff against the one before",
)

message_log = Table(
    "message_log",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("pack_id", String(64), nullable=False),
    Column("subject_id", String(32), nullable=False, comment="'' for a message to everyone (an announcement)"),
    Column("kind", String(24), nullable=False, comment="marketing, service, policy_notice, breach_notice, announcement"),
    Column("channel", String(32), nullable=False),
    Column("topic", String(64), nullable=False, comment="what it is about (a version, an incident, a campaign id)"),
    Column("outbox_id", _ID, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_message_log_subject", "subject_id", "kind"),
    UniqueConstraint("kind", "topic", "subject_id", "channel"),
    comment="messages to people, classed; never their content",
)

trackers = Table(
    "trackers",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("pack_id", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("technology", String(32), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("party", String(16), nullable=False, comment="first or third"),
    Column("recipient", String(64), nullable=True, comment="the third party that sets it"),
    Column("lifetime", String(16), nullable=False, comment="session or persistent"),
    Column("placement", String(16), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("registered_by", String(64), nullable=False),
    UniqueConstraint("pack_id", "name"),
    comment="cookies and similar trackers the pack allows, each with its purpose",
)

incident_notices = Table(
    "incident_notices",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("incident_id", _ID, ForeignKey("incidents.id"), nullable=False),
    Column("kind", String(16), nullable=False, comment="individual, announcement or regulator"),
    Column("subject_id", String(32), nullable=False, comment="'' for an announcement or a regulator report"),
    Column("channel", String(32), nullable=False),
    Column("outbox_id", _ID, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("incident_id", "kind", "subject_id", "channel"),
    comment="breach notices sent for each incident",
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True, comment="the key's public prefix"),
    Column("name", String(100), nullable=False),
    Column("role", String(32), nullable=False, comment="admin, privacy_officer, support_agent, auditor or service"),
    Column("secret_hash", String(64), nullable=False, comment="keyed hash of the secret part; the key itself is shown once"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    comment="staff and service API keys, each bound to one role",
)

login_codes = Table(
    "login_codes",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("pack_id", String(64), nullable=False),
    Column("lookup", String(64), nullable=False, comment="keyed hash of the person's identifier"),
    Column("subject_id", String(32), nullable=True, comment="NULL when no data is held (no code was sent)"),
    Column("code_hash", String(64), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used", Boolean, nullable=False),
    Index("ix_login_codes_lookup", "lookup", "sent_at"),
    comment="one-time codes people sign in to the privacy center with (sent only to an address held for them)",
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True, comment="keyed hash of the session token; the token is the cookie"),
    Column("pack_id", String(64), nullable=False),
    Column("subject_id", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    comment="people's privacy-center sessions, each opened by a verified one-time code",
)

privacy_department = Table(
    "privacy_department",
    metadata,
    Column("pack_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, comment="the department's name, e.g. Personal Information Protection"),
    Column("contact", String(254), nullable=False, comment="the department's functional address, never a person's"),
    Column("roles", JSON, nullable=False, comment="[{role, count}]: role titles and head counts; no staff names"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    comment="the privacy department the pack promises (one per pack); who is in it by role, never by name",
)

training_sessions = Table(
    "training_sessions",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("pack_id", String(64), nullable=False),
    Column("held_on", Date, nullable=False),
    Column("topic", String(200), nullable=False),
    Column("attendance", Integer, nullable=False, comment="how many staff attended (a count, no names)"),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_training_sessions_pack_id", "pack_id", "held_on"),
    comment="staff security and privacy training sessions the pack promises",
)

fact_register = Table(
    "fact_register",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("pack_id", String(64), nullable=False),
    Column("subject_id", String(32), nullable=True, comment="the person; NULL for a fact about a party"),
    Column("fact", String(32), nullable=False, comment="subscribed, product_authorized, member, transfer_informed, "
           "consent_by_recipient, successor_bound or agreement"),
    Column("arg", String(64), nullable=False, comment="what it is about (a service, an agreement kind); '' if nothing"),
    Column("party", String(64), nullable=True, comment="the recipient or successor it concerns, if any"),
    Column("action", String(16), nullable=False, comment="recorded or revoked"),
    Column("reference", String(200), nullable=False, comment="the document or system record behind it"),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Index("ix_fact_register_subject", "pack_id", "subject_id"),
    comment="facts that unlock a protection and that the engine cannot see elsewhere; append-only, latest wins",
)

rate_events = Table(
    "rate_events",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("scope", String(32), nullable=False, comment="what is limited, e.g. signin:client or request:person"),
    Column("key", String(64), nullable=False, comment="keyed hash of who or what it is counted for"),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_rate_events_scope_key", "scope", "key", "at"),
    comment="recent sign-in codes, requests, resends and email changes, counted against the abuse limits (kept only "
            "as long as the limit's window; shared by every server process)",
)
