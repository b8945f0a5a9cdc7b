"""The data model. Typed tables, one per concept in ARCHITECTURE.md; no key/value blobs except
where the shape is genuinely per program (report fields, conversation data, outbox payloads).

The models declare no ORM relationships: rows refer to each other by foreign-key columns
only, so nothing can lazy-load behind a query's back (no accidental N+1). Store functions load
what a caller needs explicitly, in set-based statements (joins, ``IN`` lists), and return rows
or plain dataclasses.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes stored as UTC on both engines.

    SQLite keeps datetimes as text without a zone; normalising to UTC on the way in and
    re-attaching it on the way out makes comparisons and ordering identical on both engines.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use the injected clock")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# A BIGINT primary key on PostgreSQL that is still SQLite's auto-incrementing rowid.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefecture_code: Mapped[str] = mapped_column(String(2))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    term_start: Mapped[dt.date] = mapped_column(Date)
    term_end: Mapped[dt.date] = mapped_column(Date)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, doc="validated profile snapshot")
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Municipality(Base):
    __tablename__ = "municipalities"

    code: Mapped[str] = mapped_column(String(6), primary_key=True, doc="6-digit 団体コード")
    code5: Mapped[str] = mapped_column(String(5), unique=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    kana: Mapped[str] = mapped_column(String(80), default="")
    prefecture_code: Mapped[str] = mapped_column(String(2), index=True)
    prefecture_name: Mapped[str] = mapped_column(String(10))


class Domain(Base):
    __tablename__ = "domains"
    __table_args__ = (UniqueConstraint("program_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    program_id: Mapped[str | None] = mapped_column(ForeignKey("programs.id"), default=None)
    group: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(80))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "platform_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    municipality_code: Mapped[str | None] = mapped_column(
        ForeignKey("municipalities.code"), default=None
    )
    name: Mapped[str] = mapped_column(String(80), default="")
    title: Mapped[str] = mapped_column(String(80), default="")
    department: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ProgramMember(Base):
    """A person's membership of a program, where one deployment holds several (a prefecture's
    two programs, last year's beside this year's). A person of no membership row works in the
    deployment's configured program; of one, in that program; of two or more, in the one they
    chose last (``chosen_at``), and they are asked in the chat until they have chosen."""

    __tablename__ = "program_members"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    chosen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class ExpertProfile(Base):
    __tablename__ = "expert_profiles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    qualifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    onsite: Mapped[bool] = mapped_column(Boolean, default=True)
    region: Mapped[str] = mapped_column(String(80), default="")
    consent_listed: Mapped[bool] = mapped_column(Boolean, default=False)
    availability: Mapped[str] = mapped_column(Text, default="")
    strengths: Mapped[str] = mapped_column(Text, default="")


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("program_id", "year", "seq"),
        Index("ix_cases_program_status", "program_id", "status"),
        Index("ix_cases_program_municipality", "program_id", "municipality_code"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_no: Mapped[str] = mapped_column(String(24), unique=True, doc="readable id SAI-2026-0012")
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    track_id: Mapped[str] = mapped_column(String(40))
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"))
    requester_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    department: Mapped[str] = mapped_column(String(120), default="")
    requester_name: Mapped[str] = mapped_column(String(80), default="")
    requester_title: Mapped[str] = mapped_column(String(80), default="")
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    preferred_method: Mapped[str] = mapped_column(String(16), default="online")
    preferred_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(24))
    stage: Mapped[int | None] = mapped_column(Integer, default=None)
    proposed_expert_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), default=None
    )
    approved_expert_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), default=None
    )
    # The expert the municipality named at intake (Miyazaki ②); matching ranks them first when
    # eligible and says why not otherwise.
    preferred_expert_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), default=None
    )
    match_state: Mapped[str] = mapped_column(
        String(16), default="", doc="'' | proposed (awaiting prefecture) | approved"
    )
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class SupportSession(Base):
    """A session (相談対応 / 派遣 / 伴走支援の回). Several municipalities and experts may join."""

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_starts_case_expert", "starts_at", "case_id", "program_id"),
        Index("ix_sessions_program_starts", "program_id", "starts_at"),
        # The reminder scan reads only sessions whose report is not in yet.
        Index(
            "ix_sessions_report_pending",
            "report_due",
            postgresql_where=text("report_submitted_at IS NULL AND status <> 'cancelled'"),
            sqlite_where=text("report_submitted_at IS NULL AND status <> 'cancelled'"),
        ),
        # /status (store.reporting), each read from the index alone: the sessions that ended
        # today, this week's sessions, and the program's pending reports.
        Index(
            "ix_sessions_program_ends",
            "program_id",
            "ends_at",
            "track_id",
            "status",
            "hours",
            "method",
        ),
        Index("ix_sessions_program_starts_status", "program_id", "starts_at", "status"),
        Index(
            "ix_sessions_program_pending",
            "program_id",
            "report_due",
            "ends_at",
            postgresql_where=text("report_submitted_at IS NULL AND status <> 'cancelled'"),
            sqlite_where=text("report_submitted_at IS NULL AND status <> 'cancelled'"),
        ),
        # The cancelled sessions of a program per track (store.reporting.counting): a few
        # entries, read without touching the year's other sessions (migration 0005_a).
        Index(
            "ix_sessions_program_cancelled",
            "program_id",
            "track_id",
            "starts_at",
            postgresql_where=text("status = 'cancelled'"),
            sqlite_where=text("status = 'cancelled'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    track_id: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, doc="starts_at + hours")
    hours: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16))
    place: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    report_due: Mapped[dt.date] = mapped_column(Date)
    # When the report reached the receiver its track's profile names (staff or prefecture; after
    # the staff's approval where the track has a review step): the deadline is met then.
    report_submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # Where the report stands: one of REPORT_STAGES (store.sessions). A report waiting for
    # review or sent back is still pending (report_submitted_at is NULL).
    report_stage: Mapped[str] = mapped_column(
        String(16), default="open", server_default=text("'open'")
    )
    # When the expert last handed the report in (the staff's review waits from then).
    report_handed_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # The reason given with the last send-back, shown to the expert.
    report_review_note: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class SessionMunicipality(Base):
    __tablename__ = "session_municipalities"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    municipality_code: Mapped[str] = mapped_column(
        ForeignKey("municipalities.code"), primary_key=True, index=True
    )


class SessionExpert(Base):
    __tablename__ = "session_experts"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class SessionReport(Base):
    """One version of a session report; amendments add a version and keep the old ones."""

    __tablename__ = "session_reports"
    __table_args__ = (UniqueConstraint("session_id", "version"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class ReportAttachment(Base):
    __tablename__ = "report_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    url: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), unique=True
    )
    respondent_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    satisfaction: Mapped[int | None] = mapped_column(Integer, default=None)
    resolved: Mapped[str | None] = mapped_column(String(16), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class StatusChange(Base):
    __tablename__ = "status_history"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    actor_label: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """A message to deliver, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    target_kind: Mapped[str] = mapped_column(String(16), doc="user | channel")
    target: Mapped[str] = mapped_column(String(120))
    platform: Mapped[str] = mapped_column(String(16), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")


class ReminderLedger(Base):
    """Every reminder step ever sent, under a unique key, so no step is sent twice."""

    __tablename__ = "reminder_ledger"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id"), default=None, index=True
    )
    step: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(120), default="")
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ProcessedEvent(Base):
    __tablename__ = "processed_events"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class InboxItem(Base):
    """A chat delivery as it arrived, stored before it is acknowledged (store/inbox.py); a worker
    leases it, handles it and marks it done in the same transaction as the handling."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "delivery_id", name="uq_inbox_delivery"),
        Index("ix_inbox_open", "done_at", "id"),
        Index("ix_inbox_person", "person", "id"),
        # The claim's "no earlier unfinished row of this person" (store/inbox.py): only the
        # open rows, so the look does not grow with the handled ones (0010_q).
        Index(
            "ix_inbox_waiting",
            "platform",
            "person",
            "id",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(200), doc="the platform's event id")
    person: Mapped[str] = mapped_column(String(120), doc="whose messages stay in order")
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class AuditEntry(Base):
    """Who did what to which object, and when. ``program_id`` lets the trail be read, archived
    and erased per program at contract end (issue 17); '' for actions outside any program."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_program_at", "program_id", "at"),
        Index("ix_audit_log_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(60), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    program_id: Mapped[str] = mapped_column(String(40), default="")


class ConversationState(Base):
    """A half-finished conversation, persisted so it survives a restart."""

    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("platform", "user_platform_id", "thread_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_platform_id: Mapped[str] = mapped_column(String(64))
    thread_key: Mapped[str] = mapped_column(String(120), default="")
    channel: Mapped[str] = mapped_column(String(120), default="")
    flow: Mapped[str] = mapped_column(String(40))
    step: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SessionTally(Base):
    """Running totals kept by database triggers in the same transaction as every change to
    sessions, session_municipalities, session_experts and cases (migration 0002), so `/status`
    reads a few hundred rows instead of aggregating every session of the year.

    Per program and track, ``dim`` says what a row counts (non-cancelled sessions unless
    noted): 'track' (key ''), 'muni' (key: municipality code), 'expert' (key: user id), 'ends'
    and 'starts' (key: the JST day, YYYY-MM-DD, the session ends or starts), 'case' (key: a case
    status; ``sessions`` is then a number of cases). A joint session counts once in its track's
    row and once in each participating municipality's row.
    """

    __tablename__ = "session_tallies"

    program_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    track_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dim: Mapped[str] = mapped_column(String(8), primary_key=True, doc="track | muni | expert")
    key: Mapped[str] = mapped_column(String(64), primary_key=True, doc="'' | code | user id")
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    onsite: Mapped[int] = mapped_column(Integer, default=0)


class SurveyTally(Base):
    """Running counts of surveys per program, satisfaction (0 = none), resolution ('' = none)
    and whether answered; kept by triggers like SessionTally."""

    __tablename__ = "survey_tallies"

    program_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    satisfaction: Mapped[int] = mapped_column(Integer, primary_key=True)
    resolved: Mapped[str] = mapped_column(String(16), primary_key=True)
    answered: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class Engagement(Base):
    """One municipality's long-running support in one track (伴走支援, BPR, 派遣 over steps 0–3),
    recorded on its case: what was agreed with the municipality (Yamagata §3(1)③ テーマ・目標・
    範囲・成果物, Kumamoto §2.5(1) 支援計画書, Saitama §6(4)ア 実施プラン). The stage it has
    reached is ``Case.stage``; each stage's KPI is a StageMark."""

    __tablename__ = "engagements"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"), index=True)
    track_id: Mapped[str] = mapped_column(String(40))
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"))
    theme: Mapped[str] = mapped_column(Text, default="")
    goal: Mapped[str] = mapped_column(Text, default="", doc="取組目標; '' until agreed")
    scope: Mapped[str] = mapped_column(Text, default="")
    deliverables: Mapped[str] = mapped_column(Text, default="", doc="agreed 成果物")
    planned_sessions: Mapped[int | None] = mapped_column(Integer, default=None)
    start_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    goal_set_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class StageMark(Base):
    """Whether a case's engagement reached a stage of the profile's stage model and whether
    that stage's KPI is met; one row per (case, stage), updated by the expert's follow-up after
    each session or by staff (`/dx stage`). The municipality × stage matrix reads these."""

    __tablename__ = "stage_marks"
    __table_args__ = (UniqueConstraint("case_id", "stage"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    stage: Mapped[int] = mapped_column(Integer)
    kpi_met: Mapped[bool | None] = mapped_column(Boolean, default=None, doc="None: not asked")
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"), default=None)
    recorded_by: Mapped[str] = mapped_column(String(120), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ProgramEvent(Base):
    """A meeting or event the program holds or counts (定例会, 進捗状況確認会議, 研修, 交流会,
    報告会, 成果報告会); ``kind`` is an id from the profile's ``events``. Shown as E<id>."""

    __tablename__ = "program_events"
    __table_args__ = (Index("ix_program_events_program_kind", "program_id", "kind"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    kind: Mapped[str] = mapped_column(String(40))
    held_on: Mapped[dt.date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200), default="")
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class DeliverableItem(Base):
    """One due deliverable of the program (体制図, 計画書, a meeting's 議事録, a monthly report,
    the 調査報告書, the completion report), made from a profile ``deliverables`` entry and its
    due rule. ``period`` tells apart the items one entry makes ('' once, '2027-01' monthly,
    'E12' per event), so making them again never doubles one. Shown as D<id>."""

    __tablename__ = "deliverable_items"
    __table_args__ = (
        UniqueConstraint("program_id", "spec_id", "period"),
        Index("ix_deliverable_items_program_due", "program_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    spec_id: Mapped[str] = mapped_column(String(40), doc="the profile deliverable's id")
    period: Mapped[str] = mapped_column(String(40), default="")
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("program_events.id"), default=None)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    done_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class WebLink(Base):
    """A one-time sign-in link for the web view (issue 18). Only the SHA-256 of the token is
    stored, so a copy of the database signs nobody in; ``used_at`` makes it single-use."""

    __tablename__ = "web_links"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    program_id: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class WebSession(Base):
    """A signed-in browser: the cookie carries a random token whose SHA-256 is stored here."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    program_id: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class ErasureRecord(Base):
    """What an erasure removed, when and by whom (issue 17): the 消去証明 the operator files.
    It keeps counts only, never the erased values, so it survives the erasure it records."""

    __tablename__ = "erasure_records"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    program_id: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(120))
    archive_sha256: Mapped[str] = mapped_column(String(64), default="")
    record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
