"""The audit trail: who did what to which case, session, report or person, and when — written by
the store functions that make each change (so no path around them leaves no trace), read with
`dxbot audit [--case] [--from] [--to] [--program] [--json]` and archived (tests/test_archive.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select

from reminders.clock import JST
from store import audit, cases, deliverables, program_events, session_changes, sessions, users
from store.db import Database
from store.models import Case, DeliverableItem, StatusChange, SupportSession
from store.profiles import load_profile
from store.seed import seed_program
from tests.test_erase import ERASED, NOW, OTHER, build, run


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=JST)


async def _story(db: Database) -> str:
    """A case's life in Saitama, each step by a named person; returns its case number."""
    async with db.transaction() as s:
        profile = load_profile(ERASED)
        await seed_program(s, profile, at(1))
        await seed_program(s, profile, at(1))  # seeding again changes nothing: no entry
        staff = await users.add(
            s, platform="slack", platform_id="USTAFF", role="staff", now=at(1), name="事務局 佐藤"
        )
        expert = await users.add(
            s, platform="slack", platform_id="UEXP", role="expert", now=at(1), name="専門 田中"
        )
        case = await cases.create(
            s,
            program_id=ERASED,
            prefix=profile.case_prefix,
            year=2026,
            track_id="soudan",
            municipality_code="111007",
            now=at(2),
            actor_label="職員 山田",
        )
        await cases.set_status(
            s, case, "coordinating", now=at(3), actor_user_id=staff.id, actor_label="事務局 佐藤"
        )
        session = await sessions.create(
            s,
            program_id=ERASED,
            case_id=case.id,
            track_id="soudan",
            starts_at=at(5, 14),
            hours=1,
            method="online",
            place="",
            report_due=at(12).date(),
            municipality_codes=["111007"],
            expert_user_ids=[expert.id],
            now=at(3),
            actor="事務局 佐藤",
        )
        await session_changes.move(
            s,
            session,
            starts_at=at(6, 14),
            report_due=at(13).date(),
            now=at(4),
            actor="事務局 佐藤",
        )
        await sessions.add_report(
            s, session, {"summary": "初版"}, author_user_id=expert.id, now=at(6, 16), deliver=False
        )
        await sessions.return_report(
            s, session, "対応内容を具体的に", version=1, now=at(9), actor="事務局 佐藤"
        )
        await sessions.add_report(
            s, session, {"summary": "修正版"}, author_user_id=expert.id, now=at(10), deliver=False
        )
        await sessions.approve_report(s, session, version=2, now=at(11), actor="事務局 佐藤")
        other = await sessions.create(
            s,
            program_id=ERASED,
            case_id=case.id,
            track_id="soudan",
            starts_at=at(20, 14),
            hours=1,
            method="online",
            place="",
            report_due=at(27).date(),
            municipality_codes=["111007"],
            expert_user_ids=[expert.id],
            now=at(12),
            actor="事務局 佐藤",
        )
        await session_changes.cancel(s, other, now=at(13), actor="事務局 佐藤", reason="先方の都合")
        await users.remove(s, "slack", "UEXP", now=at(14), actor="cli")
        event = await program_events.record(
            s, program_id=ERASED, kind="kickoff", held_on=at(15).date(), now=at(15),
            created_by="事務局 佐藤",
        )  # fmt: skip
        item = DeliverableItem(
            program_id=ERASED, spec_id="minutes", title="議事録", due_on=at(18).date(),
            event_id=event.id, created_at=at(15),
        )  # fmt: skip
        s.add(item)
        await s.flush()
        await deliverables.mark_done(s, item, "事務局 佐藤", at(16))
        await deliverables.mark_done(s, item, "事務局 佐藤", at(17))  # already done: no entry
        # A status change recorded before the audit log covered them (history only).
        s.add(
            StatusChange(
                case_id=case.id,
                from_status="coordinating",
                to_status="scheduled",
                actor_label="旧記録",
                at=at(3, 12),
            )
        )
        return case.case_no


async def test_every_change_is_in_the_trail_with_who_when_and_its_program(db: Database) -> None:
    case_no = await _story(db)
    async with db.transaction() as s:
        trail = await audit.trail(s, program_id=ERASED)
        whole = await audit.trail(s)
    got = [(r.action, r.actor, r.object_type) for r in trail]
    assert got == [
        ("program_seeded", "cli", "program"),
        ("case_opened", "職員 山田", "case"),
        ("case_status_changed", "事務局 佐藤", "case"),
        ("session_scheduled", "事務局 佐藤", "session"),
        ("case_status_changed", "旧記録", "case"),  # merged from the status history
        ("session_moved", "事務局 佐藤", "session"),
        ("report_submitted", "専門 田中", "session"),
        ("report_returned", "事務局 佐藤", "session"),
        ("report_amended", "専門 田中", "session"),
        ("report_approved", "事務局 佐藤", "session"),
        ("session_scheduled", "事務局 佐藤", "session"),
        ("session_cancelled", "事務局 佐藤", "session"),
        ("event_recorded", "事務局 佐藤", "event"),
        ("deliverable_done", "事務局 佐藤", "deliverable"),
    ]
    assert all(r.case_no == case_no for r in trail if r.object_type in ("case", "session"))
    returned = next(r for r in trail if r.action == "report_returned")
    assert returned.detail == {"version": 1, "reason": "対応内容を具体的に"}
    assert next(r for r in trail if r.action == "report_submitted").detail["stage"] == "review"
    people = [(r.action, r.object_id) for r in whole if r.object_type == "user"]
    assert people == [("user_added", "USTAFF"), ("user_added", "UEXP"), ("user_removed", "UEXP")]


async def test_the_trail_is_filtered_by_case_dates_and_program(db: Database) -> None:
    await build(db)  # Saitama and Kumamoto, one case each
    async with db.transaction() as s:
        saitama = await s.scalar(select(Case.case_no).where(Case.program_id == ERASED))
        kumamoto = await s.scalar(select(Case.case_no).where(Case.program_id == OTHER))
        assert saitama and kumamoto
        of_case = await audit.trail(s, case_no=saitama)
        of_other = await audit.trail(s, program_id=OTHER)
        late = await audit.trail(s, program_id=ERASED, since=NOW - dt.timedelta(days=8))
        early = await audit.trail(s, program_id=ERASED, until=NOW - dt.timedelta(days=16))
        nothing = await audit.trail(s, case_no="SAI-2099-0001")
        session_id = await s.scalar(
            select(SupportSession.id).where(SupportSession.program_id == ERASED)
        )
    assert {r.case_no for r in of_case} == {saitama}
    assert {"case_opened", "session_scheduled", "report_amended"} <= {r.action for r in of_case}
    assert str(session_id) in {r.object_id for r in of_case}
    assert {r.program_id for r in of_other} == {OTHER}
    assert all(r.at >= NOW - dt.timedelta(days=8) for r in late) and late
    assert [r.action for r in early] == ["program_seeded", "case_opened", "case_status_changed"]
    assert nothing == []


def test_dxbot_audit_reads_the_trail(db_url: str, tmp_path: Path) -> None:
    async def setup() -> str:
        database = Database(db_url)
        try:
            return await _story(database)
        finally:
            await database.dispose()

    case_no = asyncio.run(setup())
    lines = run(db_url, "audit", "--case", case_no, cwd=tmp_path)
    assert lines.returncode == 0, lines
    assert lines.stdout.splitlines()[0] == "at\tprogram\tactor\taction\tobject\tcase\tdetail"
    assert "2026-11-09 10:00\tsaitama-2026\t事務局 佐藤\treport_returned\tsession 1\t" in (
        lines.stdout
    )
    as_json = run(
        db_url, "audit", "--program", ERASED, "--from", "2026-11-09", "--to", "2026-11-10",
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert as_json.returncode == 0, as_json
    rows = json.loads(as_json.stdout)
    assert [(r["action"], r["at"]) for r in rows] == [
        ("report_returned", "2026-11-09T10:00:00+09:00"),
        ("report_amended", "2026-11-10T10:00:00+09:00"),
    ]
    assert rows[0]["case_no"] == case_no and rows[0]["detail"]["reason"] == "対応内容を具体的に"
    empty = run(db_url, "audit", "--from", "2027-01-01", cwd=tmp_path)
    assert empty.returncode == 0 and "No audit entries match." in empty.stdout
    for args, words in (
        (("audit", "--from", "11/9"), "is not a date"),
        (("audit", "--from", "2026-11-10", "--to", "2026-11-09"), "--to is before --from"),
        (("audit", "--case", "SAI-2099-0001"), "Case SAI-2099-0001 does not exist"),
        (("audit", "--program", "nowhere-2026"), "is not in this database"),
    ):
        refused = run(db_url, *args, cwd=tmp_path)
        assert refused.returncode == 2 and words in refused.stderr, refused
