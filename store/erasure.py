"""Erasing one program's personal data at contract end (`dxbot erase`, issue 17).

Saitama §10(4): at the end of the contract the data is returned (`dxbot archive`) and erased.
``erase`` deletes every row the program holds — cases, sessions, reports and their versions,
attachments, surveys, status history, engagements, stage marks, events, deliverables, its audit
trail — and its people: their accounts, expert profiles, conversation state, chat deliveries
(inbox), messages to them (outbox), reminder ledger entries and web sign-in links and sessions.
A person who also belongs to another program (a member of it, or named in its records) keeps
their account and what that program needs; only their membership of the erased program goes.
Then whatever the program's people or cases left in shared text elsewhere (messages, the audit
details of other programs, conversation data) is redacted.

What stays is aggregate counts without personal data (``aggregates``), in the ErasureRecord
written in the same transaction. ``compact`` then makes the engine drop the deleted bytes from
its files (SQLite: secure delete, WAL checkpoint and VACUUM; PostgreSQL: VACUUM FULL).

Which tables are deleted, counted or kept is decided in store/data_map.py (a test holds this
module and the archive to it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from store.archive_queries import person_ids, program_case_ids, program_session_ids
from store.db import Database, rowcount
from store.models import (
    AuditEntry,
    Case,
    ConversationState,
    DeliverableItem,
    Engagement,
    ErasureRecord,
    ExpertProfile,
    InboxItem,
    OutboxMessage,
    Program,
    ProgramEvent,
    ProgramMember,
    ReminderLedger,
    ReportAttachment,
    SessionExpert,
    SessionMunicipality,
    SessionReport,
    StageMark,
    StatusChange,
    SupportSession,
    Survey,
    User,
    WebLink,
    WebSession,
)

REDACTED = "＊"
MIN_REDACT = 3  # shorter strings (a one-character name part) would redact unrelated text


@dataclass(frozen=True)
class People:
    erased: list[User]
    kept: list[User]


@dataclass
class Plan:
    """What an erasure of ``program_id`` would remove: rows per table and the people."""

    program_id: str
    program_name: str
    counts: dict[str, int]
    people_erased: int
    people_kept: int


@dataclass
class Result:
    program_id: str
    before: dict[str, int]
    after: dict[str, int]
    people_erased: int
    people_kept: int
    redacted: int
    aggregates: dict[str, Any] = field(default_factory=dict)
    record_id: int = 0


async def _ids(s: AsyncSession, q: Any) -> list[int]:
    return [x for x in (await s.scalars(q)).all() if x is not None]


async def people(s: AsyncSession, program_id: str, configured_program: str) -> People:
    """The program's people, split into those erased and those another program still needs.

    A person with no membership row works in the deployment's configured program
    (store.users), so they are this program's when it is the configured one."""
    mine = await person_ids(s, program_id)
    members_anywhere = set(await _ids(s, select(ProgramMember.user_id).distinct()))
    if program_id == configured_program:
        every = set(await _ids(s, select(User.id)))
        mine |= every - members_anywhere
    needed: set[int] = set(
        await _ids(s, select(ProgramMember.user_id).where(ProgramMember.program_id != program_id))
    )
    others = (await s.scalars(select(Program.id).where(Program.id != program_id))).all()
    for other in others:
        needed |= await person_ids(s, other)
    if program_id != configured_program:
        needed |= set(await _ids(s, select(User.id))) - members_anywhere
    users = list((await s.scalars(select(User).where(User.id.in_(mine)).order_by(User.id))).all())
    return People(
        erased=[u for u in users if u.id not in needed],
        kept=[u for u in users if u.id in needed],
    )


async def _count(s: AsyncSession, q: Any) -> int:
    return int(await s.scalar(select(func.count()).select_from(q.subquery())) or 0)


async def counts(s: AsyncSession, program_id: str, erased: Sequence[User]) -> dict[str, int]:
    """Rows per table that hold the program's data or its (erasable) people's."""
    cases = program_case_ids(program_id)
    sessions = program_session_ids(program_id)
    uids = [u.id for u in erased]
    pids = [u.platform_id for u in erased]
    return {
        "cases": await _count(s, cases),
        "sessions": await _count(s, sessions),
        "session_reports": await _count(
            s, select(SessionReport.id).where(SessionReport.session_id.in_(sessions))
        ),
        "report_attachments": await _count(
            s, select(ReportAttachment.id).where(ReportAttachment.session_id.in_(sessions))
        ),
        "surveys": await _count(s, select(Survey.id).where(Survey.session_id.in_(sessions))),
        "status_history": await _count(
            s, select(StatusChange.id).where(StatusChange.case_id.in_(cases))
        ),
        "engagements": await _count(
            s, select(Engagement.id).where(Engagement.program_id == program_id)
        ),
        "stage_marks": await _count(s, select(StageMark.id).where(StageMark.case_id.in_(cases))),
        "program_events": await _count(
            s, select(ProgramEvent.id).where(ProgramEvent.program_id == program_id)
        ),
        "deliverable_items": await _count(
            s, select(DeliverableItem.id).where(DeliverableItem.program_id == program_id)
        ),
        "audit_log": await _count(
            s, select(AuditEntry.id).where(AuditEntry.program_id == program_id)
        ),
        "program_members": await _count(
            s, select(ProgramMember.user_id).where(ProgramMember.program_id == program_id)
        ),
        "users": await _count(s, select(User.id).where(User.id.in_(uids))),
        "conversation_states": await _count(
            s,
            select(ConversationState.id).where(ConversationState.user_platform_id.in_(pids)),
        ),
        "inbox": await _count(s, select(InboxItem.id).where(InboxItem.person.in_(pids))),
        "outbox": await _count(
            s,
            select(OutboxMessage.id).where(
                or_(OutboxMessage.case_id.in_(cases), OutboxMessage.target.in_(pids))
            ),
        ),
        "web_links": await _count(
            s,
            select(WebLink.id).where(
                or_(WebLink.program_id == program_id, WebLink.user_id.in_(uids))
            ),
        ),
        "web_sessions": await _count(
            s,
            select(WebSession.id).where(
                or_(WebSession.program_id == program_id, WebSession.user_id.in_(uids))
            ),
        ),
    }


async def plan(s: AsyncSession, program_id: str, configured_program: str) -> Plan | None:
    """What ``erase`` would remove; None when the program is not loaded."""
    program = await s.get(Program, program_id)
    if program is None:
        return None
    found = await people(s, program_id, configured_program)
    return Plan(
        program_id=program_id,
        program_name=program.name,
        counts=await counts(s, program_id, found.erased),
        people_erased=len(found.erased),
        people_kept=len(found.kept),
    )


async def aggregates(s: AsyncSession, program_id: str) -> dict[str, Any]:
    """The counts that may stay: no names, no text, no ids of people."""
    by_status = dict(
        (
            await s.execute(
                select(Case.status, func.count())
                .where(Case.program_id == program_id)
                .group_by(Case.status)
            )
        ).all()
    )
    by_track: dict[str, dict[str, float]] = {}
    for track, status, n, hours in (
        await s.execute(
            select(
                SupportSession.track_id,
                SupportSession.status,
                func.count(),
                func.coalesce(func.sum(SupportSession.hours), 0.0),
            )
            .where(SupportSession.program_id == program_id)
            .group_by(SupportSession.track_id, SupportSession.status)
        )
    ).all():
        entry = by_track.setdefault(track, {})
        entry[f"sessions_{status}"] = int(n)
        entry[f"hours_{status}"] = round(float(hours), 2)
    sessions = program_session_ids(program_id)
    sat = Counter(
        x
        for x in (
            await s.scalars(
                select(Survey.satisfaction).where(
                    Survey.session_id.in_(sessions), Survey.satisfaction.is_not(None)
                )
            )
        ).all()
    )
    munis = await _count(
        s,
        select(SessionMunicipality.municipality_code)
        .where(SessionMunicipality.session_id.in_(sessions))
        .distinct(),
    )
    return {
        "cases_by_status": {str(k): int(v) for k, v in sorted(by_status.items())},
        "sessions_by_track": dict(sorted(by_track.items())),
        "survey_satisfaction": {str(k): v for k, v in sorted(sat.items())},
        "municipalities_served": munis,
    }


def _strings(values: Iterable[str | None]) -> list[str]:
    out = {v.strip() for v in values if v and len(v.strip()) >= MIN_REDACT}
    # The longest first, so a full name is replaced before a part of it.
    return sorted(out, key=lambda v: (-len(v), v))


async def _personal_strings(s: AsyncSession, program_id: str, erased: Sequence[User]) -> list[str]:
    values: list[str | None] = []
    for u in erased:
        values += [u.name, u.platform_id, u.email]
        values += [u.name.replace(" ", ""), u.name.replace(" ", "　")] if u.name else []
    for no, name in (
        await s.execute(
            select(Case.case_no, Case.requester_name).where(Case.program_id == program_id)
        )
    ).all():
        values += [no, name]
    return _strings(values)


def _redact_text(text: str, strings: Sequence[str]) -> str:
    for value in strings:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def _redact_json(value: Any, strings: Sequence[str]) -> Any:
    if isinstance(value, str):
        return _redact_text(value, strings)
    if isinstance(value, list):
        return [_redact_json(v, strings) for v in value]
    if isinstance(value, dict):
        return {_redact_text(str(k), strings): _redact_json(v, strings) for k, v in value.items()}
    return value


def _mentions(value: Any, strings: Sequence[str]) -> bool:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return any(v in text for v in strings)


async def _redact_shared(s: AsyncSession, strings: Sequence[str]) -> int:
    """Redact the erased strings wherever shared tables still carry them; rows changed."""
    if not strings:
        return 0
    changed = 0
    for msg in (await s.scalars(select(OutboxMessage))).all():
        if _mentions([msg.payload, msg.target, msg.dedupe_key or "", msg.last_error], strings):
            msg.payload = _redact_json(msg.payload, strings)
            msg.last_error = _redact_text(msg.last_error, strings)
            if msg.dedupe_key and _mentions(msg.dedupe_key, strings):
                msg.dedupe_key = f"erased:{msg.id}"  # still unique, no longer telling
            changed += 1
    for item in (await s.scalars(select(InboxItem))).all():
        if _mentions(item.body, strings) or _mentions(item.person, strings):
            item.body = _redact_text(item.body, strings)
            item.person = _redact_text(item.person, strings)
            changed += 1
    for state in (await s.scalars(select(ConversationState))).all():
        if _mentions(state.data, strings):
            state.data = _redact_json(state.data, strings)
            changed += 1
    for entry in (await s.scalars(select(AuditEntry))).all():
        if _mentions([entry.actor, entry.object_id, entry.detail], strings):
            entry.actor = _redact_text(entry.actor, strings)
            entry.object_id = _redact_text(entry.object_id, strings)
            entry.detail = _redact_json(entry.detail, strings)
            changed += 1
    for ledger in (await s.scalars(select(ReminderLedger))).all():
        if _mentions([ledger.key, ledger.recipient], strings):
            await s.delete(ledger)  # a step about an erased case or person: nothing left to chase
            changed += 1
    for change in (await s.scalars(select(StatusChange))).all():
        if _mentions([change.actor_label, change.reason], strings):
            change.actor_label = _redact_text(change.actor_label, strings)
            change.reason = _redact_text(change.reason, strings)
            changed += 1
    await s.flush()
    return changed


async def _delete(s: AsyncSession, stmt: Any) -> int:
    return rowcount(await s.execute(stmt.execution_options(synchronize_session=False)))


async def erase(
    s: AsyncSession,
    program_id: str,
    *,
    configured_program: str,
    now: dt.datetime,
    actor: str,
    archive_sha256: str = "",
) -> Result:
    """Erase the program's personal data in one transaction and record the erasure."""
    if s.get_bind().dialect.name == "sqlite":  # deleted cells are zeroed, not left in free space
        await s.execute(text("PRAGMA secure_delete = ON"))
    found = await people(s, program_id, configured_program)
    before = await counts(s, program_id, found.erased)
    kept_aggregates = await aggregates(s, program_id)
    strings = await _personal_strings(s, program_id, found.erased)
    cases = program_case_ids(program_id)
    sessions = program_session_ids(program_id)
    uids = [u.id for u in found.erased]
    pids = [u.platform_id for u in found.erased]

    ledger_outbox = select(ReminderLedger.outbox_id).where(
        or_(ReminderLedger.session_id.in_(sessions), ReminderLedger.recipient.in_(pids))
    )
    outbox_q = or_(
        OutboxMessage.case_id.in_(cases),
        OutboxMessage.target.in_(pids),
        OutboxMessage.id.in_(ledger_outbox),
    )
    await _delete(
        s,
        update(ReminderLedger)
        .where(ReminderLedger.outbox_id.in_(select(OutboxMessage.id).where(outbox_q)))
        .values(outbox_id=None),
    )
    await _delete(
        s,
        delete(ReminderLedger).where(
            or_(ReminderLedger.session_id.in_(sessions), ReminderLedger.recipient.in_(pids))
        ),
    )
    await _delete(s, delete(OutboxMessage).where(outbox_q))
    await _delete(s, delete(StageMark).where(StageMark.case_id.in_(cases)))
    await _delete(s, delete(DeliverableItem).where(DeliverableItem.program_id == program_id))
    await _delete(s, delete(ProgramEvent).where(ProgramEvent.program_id == program_id))
    await _delete(s, delete(Engagement).where(Engagement.program_id == program_id))
    await _delete(s, delete(Survey).where(Survey.session_id.in_(sessions)))
    await _delete(s, delete(ReportAttachment).where(ReportAttachment.session_id.in_(sessions)))
    await _delete(s, delete(SessionReport).where(SessionReport.session_id.in_(sessions)))
    await _delete(
        s, delete(SessionMunicipality).where(SessionMunicipality.session_id.in_(sessions))
    )
    await _delete(s, delete(SessionExpert).where(SessionExpert.session_id.in_(sessions)))
    await _delete(s, delete(SupportSession).where(SupportSession.program_id == program_id))
    await _delete(s, delete(StatusChange).where(StatusChange.case_id.in_(cases)))
    await _delete(s, delete(Case).where(Case.program_id == program_id))
    await _delete(s, delete(AuditEntry).where(AuditEntry.program_id == program_id))
    await _delete(
        s,
        delete(AuditEntry).where(AuditEntry.object_type == "user", AuditEntry.object_id.in_(pids)),
    )
    await _delete(
        s, delete(WebLink).where(or_(WebLink.program_id == program_id, WebLink.user_id.in_(uids)))
    )
    await _delete(
        s,
        delete(WebSession).where(
            or_(WebSession.program_id == program_id, WebSession.user_id.in_(uids))
        ),
    )
    await _delete(s, delete(ProgramMember).where(ProgramMember.program_id == program_id))
    await _delete(s, delete(ProgramMember).where(ProgramMember.user_id.in_(uids)))
    await _delete(s, delete(ConversationState).where(ConversationState.user_platform_id.in_(pids)))
    await _delete(s, delete(InboxItem).where(InboxItem.person.in_(pids)))
    await _delete(s, delete(ExpertProfile).where(ExpertProfile.user_id.in_(uids)))
    await _delete(s, delete(User).where(User.id.in_(uids)))
    redacted = await _redact_shared(s, strings)
    after = await counts(s, program_id, found.erased)
    result = Result(
        program_id=program_id,
        before=before,
        after=after,
        people_erased=len(found.erased),
        people_kept=len(found.kept),
        redacted=redacted,
        aggregates=kept_aggregates,
    )
    row = ErasureRecord(
        program_id=program_id,
        at=now,
        actor=actor[:120],
        archive_sha256=archive_sha256,
        record={
            "before": before,
            "after": after,
            "people_erased": result.people_erased,
            "people_kept_for_other_programs": result.people_kept,
            "shared_rows_redacted": redacted,
            "aggregates": kept_aggregates,
            "kept": "the program's profile and the aggregate counts above; no personal data",
            "backups": (
                "backups and snapshots taken before this erasure still hold the data: "
                "delete them or destroy their media to complete the erasure"
            ),
        },
    )
    s.add(row)
    await s.flush()
    result.record_id = row.id
    await audit.record(
        s,
        at=now,
        actor=actor,
        action="program_erased",
        object_type="program",
        object_id=program_id,
        detail={"erasure_record": row.id, "archive_sha256": archive_sha256},
    )
    return result


async def records(s: AsyncSession, program_id: str) -> list[ErasureRecord]:
    return list(
        (
            await s.scalars(
                select(ErasureRecord)
                .where(ErasureRecord.program_id == program_id)
                .order_by(ErasureRecord.at)
            )
        ).all()
    )


TOUCHED = (
    "cases",
    "sessions",
    "session_reports",
    "report_attachments",
    "surveys",
    "status_history",
    "engagements",
    "stage_marks",
    "program_events",
    "deliverable_items",
    "audit_log",
    "program_members",
    "users",
    "expert_profiles",
    "conversation_states",
    "inbox",
    "outbox",
    "reminder_ledger",
    "web_links",
    "web_sessions",
    "session_municipalities",
    "session_experts",
)


async def compact(db: Database) -> str:
    """Make the engine drop the deleted rows' bytes from its files; says what was done.

    SQLite keeps deleted rows in free pages and in the write-ahead log until they are reused:
    a checkpoint and VACUUM rewrite the file without them and empty the -wal file. PostgreSQL
    keeps dead tuples until VACUUM; VACUUM FULL rewrites the touched tables."""
    if db.dialect == "sqlite":
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            await conn.commit()
            await conn.exec_driver_sql("VACUUM")
            await conn.commit()
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            await conn.commit()
        return "SQLite: WAL checkpointed and the database file rewritten (VACUUM)"
    async with db.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        names = ", ".join(f'"{t}"' for t in TOUCHED)
        await auto.exec_driver_sql(f"VACUUM FULL {names}")
    return "PostgreSQL: the touched tables rewritten (VACUUM FULL)"
