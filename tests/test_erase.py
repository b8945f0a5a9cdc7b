"""`dxbot erase`: a program's personal data is gone from the database's bytes, other programs keep
theirs, and the erasure record says what was erased, when, by whom and about backups.

The world: two programs in one database (Saitama, the one erased, and Kumamoto), each with people,
a case, a session with a report (two versions), an attachment, a survey comment, an engagement,
an event, a conversation half done, an inbox delivery, an outbox message, a web sign-in link and
session and audit entries — every personal value carrying a marker (ZQXS… for Saitama, ZQXK… for
Kumamoto). One expert works in both programs: their account stays, for Kumamoto.

After the erasure, SQLite's file and its -wal file (checkpointed and vacuumed) are searched byte
by byte, and on PostgreSQL every text and JSON column of every table, for each marker: none of
Saitama's remains; Kumamoto's all do.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import JSON, LargeBinary, String, Text, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from reminders.clock import JST
from store import (
    audit,
    cases,
    conversations,
    engagements,
    erasure,
    inbox,
    outbox,
    program_events,
    sessions,
    users,
)
from store.db import Database
from store.models import (
    Base,
    Case,
    ErasureRecord,
    Municipality,
    ProgramMember,
    ReminderLedger,
    ReportAttachment,
    User,
    WebLink,
    WebSession,
)
from store.profiles import load_profile
from store.seed import seed_program

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=JST)
ERASED, OTHER = "saitama-2026", "kumamoto-2026"
SHARED_EXPERT = "共有専門家ZQXBOTHNAME"  # in both programs: kept (Kumamoto needs them)
DXBOT = str(Path(sys.executable).with_name("dxbot"))


def markers(tag: str) -> dict[str, str]:
    """Every personal value one program's world stores, each distinctive (tag S or K)."""
    return {
        "officer_name": f"職員ZQX{tag}OFFICER 花子",
        "officer_id": f"UZQX{tag}OFF",
        "officer_email": f"zqx{tag.lower()}officer@example.jp",
        "expert_name": f"専門家ZQX{tag}EXPERT 太郎",
        "expert_id": f"UZQX{tag}EXP",
        "requester": f"相談者ZQX{tag}REQUESTER",
        "description": f"相談内容ZQX{tag}DESCRIPTION の詳細",
        "place": f"会議室ZQX{tag}PLACE",
        "report_v1": f"報告初版ZQX{tag}REPORTV1",
        "report_v2": f"報告修正版ZQX{tag}REPORTV2",
        "attachment": f"添付ZQX{tag}ATTACH.pdf",
        "attachment_bytes": f"%PDF-ZQX{tag}ATTACHBYTES",
        "survey": f"アンケートZQX{tag}SURVEY",
        "theme": f"テーマZQX{tag}THEME",
        "attendee": f"出席者ZQX{tag}ATTENDEE",
        "notes": f"議事メモZQX{tag}NOTES",
        "conversation": f"下書きZQX{tag}DRAFT",
        "inbox": f"受信本文ZQX{tag}INBOX",
        "outbox": f"送信本文ZQX{tag}OUTBOX",
        "reason": f"理由ZQX{tag}REASON",
    }


@dataclass(frozen=True)
class World:
    erased: dict[str, str]
    other: dict[str, str]


def json_forms(value: str) -> list[str]:
    """The value as stored: raw UTF-8 in text columns, \\u-escaped inside JSON columns."""
    return [value, json.dumps(value)[1:-1]]


async def _program_world(s: AsyncSession, program_id: str, tag: str, shared_expert: User) -> None:
    m = markers(tag)
    profile = load_profile(program_id)
    muni = await s.scalar(
        select(Municipality.code)
        .where(Municipality.prefecture_code == profile.prefecture_code)
        .order_by(Municipality.code)
        .limit(1)
    )
    assert muni is not None
    officer = await users.add(
        s,
        platform="slack",
        platform_id=m["officer_id"],
        role="officer",
        now=NOW,
        municipality_code=muni,
        name=m["officer_name"],
        email=m["officer_email"],
        actor="cli",
    )
    expert = await users.add(
        s,
        platform="slack",
        platform_id=m["expert_id"],
        role="expert",
        now=NOW,
        name=m["expert_name"],
        actor="cli",
    )
    for person in (officer, expert, shared_expert):
        await users.join_program(s, person, program_id, NOW)
    track = profile.tracks[0].id
    case = await cases.create(
        s,
        program_id=program_id,
        prefix=profile.case_prefix,
        year=2026,
        track_id=track,
        municipality_code=muni,
        now=NOW - dt.timedelta(days=20),
        requester_user_id=officer.id,
        requester_name=m["requester"],
        description=m["description"],
        actor_label=m["officer_name"],
    )
    await cases.set_status(
        s,
        case,
        "scheduled",
        now=NOW - dt.timedelta(days=19),
        actor_user_id=None,
        actor_label=m["expert_name"],
        reason=m["reason"],
    )
    session = await sessions.create(
        s,
        program_id=program_id,
        case_id=case.id,
        track_id=track,
        starts_at=NOW - dt.timedelta(days=10),
        hours=2,
        method="onsite",
        place=m["place"],
        report_due=(NOW - dt.timedelta(days=3)).date(),
        municipality_codes=[muni],
        expert_user_ids=[expert.id, shared_expert.id],
        now=NOW - dt.timedelta(days=15),
        actor=m["expert_name"],
    )
    for text in (m["report_v1"], m["report_v2"]):
        await sessions.add_report(
            s,
            session,
            {"summary": text, "attendees": m["officer_name"]},
            author_user_id=expert.id,
            now=NOW - dt.timedelta(days=8),
        )
    await sessions.add_attachments(
        s,
        session.id,
        [{"name": m["attachment"], "content_type": "application/pdf", "url": ""}],
        NOW,
    )
    row = await s.scalar(select(ReportAttachment).where(ReportAttachment.session_id == session.id))
    assert row is not None
    row.data = m["attachment_bytes"].encode()
    await sessions.add_survey(
        s,
        session.id,
        respondent_user_id=officer.id,
        satisfaction=5,
        resolved="resolved",
        comment=m["survey"],
        requested_at=NOW - dt.timedelta(days=7),
        answered_at=NOW - dt.timedelta(days=6),
    )
    await engagements.save(s, case, {"theme": m["theme"]}, now=NOW, actor=m["expert_name"])
    await program_events.record(
        s,
        program_id=program_id,
        kind=profile.events[0].id,
        held_on=(NOW - dt.timedelta(days=5)).date(),
        now=NOW,
        attendees=[m["attendee"], m["officer_name"]],
        notes=m["notes"],
        created_by=m["expert_name"],
    )
    await conversations.save(
        s,
        platform="slack",
        user_platform_id=m["officer_id"],
        thread_key="",
        channel=f"D{m['officer_id']}",
        flow="intake",
        step="description",
        data={"description": m["conversation"]},
        expires_at=NOW + dt.timedelta(hours=1),
        now=NOW,
    )
    await inbox.add(
        s,
        platform="slack",
        delivery_id=f"Ev{tag}1",
        person=m["officer_id"],
        kind="event",
        body=json.dumps({"user": m["officer_id"], "text": m["inbox"]}, ensure_ascii=False),
        now=NOW,
    )
    await outbox.enqueue(
        s,
        target_kind="user",
        target=m["officer_id"],
        payload={"text": m["outbox"]},
        now=NOW,
        platform="slack",
        case_id=case.id,
    )
    # A staff-channel notice with no case link, and a reminder step keyed by the case number:
    # nothing ties them to the program but the text.
    await outbox.enqueue(
        s,
        target_kind="channel",
        target="C-STAFF",
        payload={"text": f"{m['requester']} 様から新しいご相談です（{case.case_no}）"},
        now=NOW,
        platform="slack",
        dedupe_key=f"notice:{case.case_no}",
    )
    s.add(
        ReminderLedger(key=f"queue:match:{case.case_no}:2026-12-01", step="queue", created_at=NOW)
    )
    for model in (WebLink, WebSession):
        s.add(
            model(
                token_hash=hashlib.sha256(f"{tag}{model.__name__}".encode()).hexdigest(),
                user_id=officer.id,
                program_id=program_id,
                created_at=NOW,
                expires_at=NOW + dt.timedelta(hours=8),
            )
        )
    await audit.record(
        s,
        at=NOW,
        actor=m["officer_name"],
        action="web_signed_in",
        object_type="user",
        object_id=m["officer_id"],
        detail={"note": m["reason"]},
        program_id=program_id,
    )
    await s.flush()


async def build(db: Database) -> World:
    async with db.transaction() as s:
        for program_id in (ERASED, OTHER):
            await seed_program(s, load_profile(program_id), NOW - dt.timedelta(days=60))
        shared = await users.add(
            s,
            platform="slack",
            platform_id="UZQXBOTH",
            role="expert",
            now=NOW,
            name=SHARED_EXPERT,
        )
        await _program_world(s, ERASED, "S", shared)
        await _program_world(s, OTHER, "K", shared)
    return World(markers("S"), markers("K"))


# --- searching the database ----------------------------------------------------------------------


def sqlite_bytes(url: str) -> bytes:
    path = Path(url.split("///", 1)[1])
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


async def pg_hits(db: Database, value: str) -> list[str]:
    """Every table.column (text, JSON or bytes) of PostgreSQL holding ``value``."""
    hits = []
    async with db.transaction() as s:
        for table in Base.metadata.sorted_tables:
            for col in table.columns:
                if isinstance(col.type, LargeBinary):
                    q = select(func.count()).where(
                        func.strpos(func.encode(col, "hex"), value.encode().hex()) > 0
                    )
                elif isinstance(col.type, String | Text | JSON):
                    text = cast(col, Text)
                    q = select(func.count()).where(
                        or_(*(func.strpos(text, form) > 0 for form in json_forms(value)))
                    )
                else:
                    continue
                if await s.scalar(q.select_from(table)):
                    hits.append(f"{table.name}.{col.name}")
    return hits


async def remaining(db: Database, url: str, values: dict[str, str]) -> dict[str, list[str]]:
    """Which of ``values`` the database still holds, and where."""
    found: dict[str, list[str]] = {}
    if db.dialect == "sqlite":
        data = sqlite_bytes(url)
        for key, value in values.items():
            if any(form.encode() in data for form in json_forms(value)):
                found[key] = ["file"]
        return found
    for key, value in values.items():
        hits = await pg_hits(db, value)
        if hits:
            found[key] = hits
    return found


# --- the tests ---------------------------------------------------------------------------------------


async def test_erasing_a_program_leaves_none_of_its_personal_data_and_all_of_the_others(
    db: Database, db_url: str
) -> None:
    world = await build(db)
    async with db.transaction() as s:
        case_no = {
            p: await s.scalar(select(Case.case_no).where(Case.program_id == p))
            for p in (ERASED, OTHER)
        }
    erased = {**world.erased, "case_no": str(case_no[ERASED])}
    other = {**world.other, "case_no": str(case_no[OTHER])}
    assert set(await remaining(db, db_url, erased)) == set(erased)  # seeded

    async with db.transaction() as s:
        result = await erasure.erase(
            s, ERASED, configured_program=ERASED, now=NOW, actor="監督員", archive_sha256="ab" * 32
        )
    await erasure.compact(db)

    assert await remaining(db, db_url, erased) == {}
    assert set(await remaining(db, db_url, other)) == set(other)
    assert await remaining(db, db_url, {"shared": SHARED_EXPERT})  # Kumamoto still needs them

    async with db.transaction() as s:
        shared = await users.get_by_platform_id(s, "slack", "UZQXBOTH")
        assert shared is not None and shared.name == SHARED_EXPERT
        assert [m.program_id for m in await users.memberships(s, shared.id)] == [OTHER]
        assert await s.scalar(select(func.count()).select_from(WebLink)) == 1  # Kumamoto's
        records = await erasure.records(s, ERASED)
    assert result.before["cases"] == 1 and result.after["cases"] == 0
    assert result.before["session_reports"] == 2 and result.after["session_reports"] == 0
    assert result.before["users"] == 2 and result.after["users"] == 0  # officer and expert
    assert result.people_kept == 1  # the expert who also works for Kumamoto
    assert all(n == 0 for n in result.after.values())
    assert result.aggregates["cases_by_status"] == {"scheduled": 1}
    [record] = records
    assert record.actor == "監督員" and record.archive_sha256 == "ab" * 32
    assert record.record["before"]["surveys"] == 1 and record.record["after"]["surveys"] == 0
    assert "still hold the data" in record.record["backups"]


async def test_the_plan_shows_what_will_go_before_anything_goes(db: Database) -> None:
    await build(db)
    async with db.transaction() as s:
        plan = await erasure.plan(s, ERASED, ERASED)
        assert await erasure.plan(s, "nowhere-2026", ERASED) is None
    assert plan is not None
    assert plan.counts["cases"] == 1 and plan.counts["outbox"] == 1
    assert plan.counts["web_links"] == 1 and plan.counts["web_sessions"] == 1
    assert (plan.people_erased, plan.people_kept) == (2, 1)
    async with db.transaction() as s:  # nothing was touched by planning
        assert await s.scalar(select(func.count()).select_from(ProgramMember)) == 6


# --- the command -----------------------------------------------------------------------------------------


def run(url: str, *args: str, stdin: str = "", cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOGO_", "OPENAI"))}
    env.update(
        DATABASE_URL=url, DXBOT_PROGRAM=ERASED, PYTHONIOENCODING="utf-8", DXBOT_PROFILES_DIR=""
    )
    return subprocess.run(
        [DXBOT, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_erase_asks_for_the_program_id_and_refuses_a_wrong_or_stale_archive(
    db_url: str, tmp_path: Path
) -> None:
    async def setup() -> None:
        database = Database(db_url)
        try:
            await build(database)
        finally:
            await database.dispose()

    asyncio.run(setup())
    wrong = run(db_url, "erase", "--program", ERASED, stdin="kumamoto-2026\n", cwd=tmp_path)
    assert wrong.returncode == 2, wrong
    assert "cases: 1 rows" in wrong.stdout and "nothing was erased" in wrong.stderr
    unknown = run(db_url, "erase", "--program", "nowhere-2026", stdin="", cwd=tmp_path)
    assert unknown.returncode == 2 and "Loaded programs: kumamoto-2026, saitama-2026" in (
        unknown.stderr
    )

    made = run(db_url, "archive", "--program", OTHER, "--out", "k.zip", cwd=tmp_path)
    assert made.returncode == 0, made
    other = run(
        db_url, "erase", "--program", ERASED, "--yes-i-have-the-archive", "k.zip", cwd=tmp_path
    )
    assert other.returncode == 1 and "is of program 'kumamoto-2026'" in other.stdout
    assert "Nothing was erased" in other.stdout

    made = run(db_url, "archive", "--program", ERASED, "--out", "s.zip", cwd=tmp_path)
    assert made.returncode == 0, made
    tampered = tmp_path / "t.zip"
    tampered.write_bytes((tmp_path / "s.zip").read_bytes()[:-40] + b"\0" * 40)
    bad = run(
        db_url, "erase", "--program", ERASED, "--yes-i-have-the-archive", "t.zip", cwd=tmp_path
    )
    assert bad.returncode == 1 and "Nothing was erased" in bad.stdout

    done = run(
        db_url,
        "erase",
        "--program",
        ERASED,
        "--yes-i-have-the-archive",
        "s.zip",
        "--by",
        "監督員 山本",
        "--now",
        "2027-04-01T09:00",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done
    digest = hashlib.sha256((tmp_path / "s.zip").read_bytes()).hexdigest()
    out = done.stdout
    assert "Erased at: 2027-04-01T09:00:00+09:00" in out
    assert "Erased by: 監督員 山本" in out and f"Archive SHA-256: {digest}" in out
    assert "cases: 1 -> 0" in out and "users: 2 -> 0" in out
    assert "still hold the data" in out and "消去証明書" in out
    assert "バックアップ" in out

    async def check() -> None:
        database = Database(db_url)
        try:
            async with database.transaction() as s:
                [record] = (await s.scalars(select(ErasureRecord))).all()
                assert record.archive_sha256 == digest
                trail = await audit.trail(s)
                assert [r.action for r in trail if r.action == "program_erased"] == [
                    "program_erased"
                ]
        finally:
            await database.dispose()

    asyncio.run(check())
    again = run(db_url, "archive", "--program", ERASED, "--out", "after.zip", cwd=tmp_path)
    assert "Rows: cases 0, sessions 0" in again.stdout


@pytest.mark.parametrize("typed", ["saitama-2026\n"])
def test_typing_the_program_id_again_erases(db_url: str, tmp_path: Path, typed: str) -> None:
    async def setup() -> None:
        database = Database(db_url)
        try:
            await build(database)
        finally:
            await database.dispose()

    asyncio.run(setup())
    done = run(db_url, "erase", "--program", ERASED, stdin=typed, cwd=tmp_path)
    assert done.returncode == 0, done
    assert "ERASURE RECORD #1" in done.stdout
    assert "(none given; the program id was typed to confirm)" in done.stdout
