"""The store on both engines: people and roles, municipalities by name or code, seeding, demo
data, case numbers and status history, and time stored as aware UTC."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo import seed_with_demo
from reminders.clock import JST
from store import cases, reference, users
from store.db import Database
from store.models import (
    Base,
    Case,
    Municipality,
    Program,
    SessionReport,
    SupportSession,
    Survey,
    User,
)
from store.profiles import load_profile

NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST)


async def _seed(db: Database, *program_ids: str, demo: bool = False) -> None:
    for pid in program_ids:
        async with db.transaction() as s:
            await seed_with_demo(s, load_profile(pid), NOW, demo=demo)


async def _counts(db: Database) -> dict[str, int]:
    out: dict[str, int] = {}
    async with db.transaction() as s:
        for table in Base.metadata.sorted_tables:
            out[table.name] = int(await s.scalar(select(func.count()).select_from(table)) or 0)
    return out


async def _add(s: AsyncSession, pid: str, role: str, **kw: object) -> User:
    return await users.add(s, platform="slack", platform_id=pid, role=role, now=NOW, **kw)  # type: ignore[arg-type]


# --- people and roles -------------------------------------------------------------------------


async def test_officer_needs_a_municipality(db: Database) -> None:
    await _seed(db, "saitama-2026")
    async with db.transaction() as s:
        with pytest.raises(users.UserStoreError, match="municipality"):
            await _add(s, "U1", "officer")
        officer = await _add(s, "U2", "officer", municipality_code="111007", name="山田 花子")
    assert officer.municipality_code == "111007"
    async with db.transaction() as s:
        rows = await users.list_users(s)
    assert [(r.user.platform_id, r.municipality_name) for r in rows] == [("U2", "さいたま市")]


@pytest.mark.parametrize("role", ["expert", "staff", "prefecture", "admin"])
async def test_other_roles_need_no_municipality(db: Database, role: str) -> None:
    async with db.transaction() as s:
        user = await _add(s, "U9", role)
    assert user.role == role
    assert user.municipality_code is None


async def test_duplicate_user_refused_and_first_kept(db: Database) -> None:
    async with db.transaction() as s:
        await _add(s, "U1", "staff", name="佐藤")
    async with db.transaction() as s:
        with pytest.raises(users.UserStoreError, match="already exists"):
            await _add(s, "U1", "admin", name="別人")
    async with db.transaction() as s:
        rows = await users.list_users(s)
        # The same id on another platform is another person.
        await users.add(s, platform="logo", platform_id="U1", role="expert", now=NOW)
    assert [(r.user.platform_id, r.user.role, r.user.name) for r in rows] == [
        ("U1", "staff", "佐藤")
    ]
    async with db.transaction() as s:
        assert len(await users.find_by_platform_id(s, "U1")) == 2


@pytest.mark.parametrize(
    ("pid", "role", "match"),
    [
        ("U1", "mayor", "Unknown role"),
        ("", "staff", "not a valid platform user id"),
        ("U 1", "staff", "not a valid platform user id"),
        ("U" * 65, "staff", "not a valid platform user id"),
    ],
)
async def test_invalid_user_refused(db: Database, pid: str, role: str, match: str) -> None:
    async with db.transaction() as s:
        with pytest.raises(users.UserStoreError, match=match):
            await _add(s, pid, role)
    assert (await _counts(db))["users"] == 0


async def test_remove_deactivates_and_keeps_the_row(db: Database) -> None:
    async with db.transaction() as s:
        await _add(s, "U1", "staff", name="佐藤")
        await _add(s, "U2", "expert", name="田中")
    async with db.transaction() as s:
        assert await users.remove(s, None, "U1") == 1
    async with db.transaction() as s:
        assert await users.get_by_platform_id(s, "slack", "U1") is None
        assert [r.user.platform_id for r in await users.list_users(s)] == ["U2"]
        row = await s.scalar(select(User).where(User.platform_id == "U1"))
        assert row is not None and row.active is False and row.name == "佐藤"
        # Removing again finds no active user; adding again brings the person back.
        assert await users.remove(s, None, "U1") == 0
        again = await _add(s, "U1", "staff", name="佐藤")
        assert again.id == row.id and again.active is True


# --- municipalities by name or code -----------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["さいたま市", "さいたま", "111007", "11100", " さいたま市 ", "１１１００"]
)
async def test_resolve_municipality(db: Database, key: str) -> None:
    await _seed(db, "saitama-2026")
    async with db.transaction() as s:
        found = await reference.resolve_municipality(s, key)
    assert [(m.code, m.name) for m in found] == [("111007", "さいたま市")]


async def test_resolve_municipality_ambiguous_and_unknown(db: Database) -> None:
    await _seed(db, "saitama-2026", "kumamoto-2026")
    async with db.transaction() as s:
        both = await reference.resolve_municipality(s, "美里町")
        saitama_only = await reference.resolve_municipality(s, "美里町", prefecture_code="11")
        unknown = await reference.resolve_municipality(s, "存在しない市")
        wrong_code = await reference.resolve_municipality(s, "999999")
    assert sorted(m.prefecture_name for m in both) == ["埼玉県", "熊本県"]
    assert [m.prefecture_name for m in saitama_only] == ["埼玉県"]
    assert unknown == []
    assert wrong_code == []


# --- seeding and demo data ----------------------------------------------------------------------


@pytest.mark.parametrize("demo", [False, True], ids=["plain", "demo"])
async def test_seeding_twice_is_idempotent(db: Database, demo: bool) -> None:
    await _seed(db, "saitama-2026", demo=demo)
    first = await _counts(db)
    await _seed(db, "saitama-2026", demo=demo)
    assert await _counts(db) == first
    assert first["municipalities"] == 63
    assert first["programs"] == 1
    if demo:
        assert first["cases"] > 0


async def test_seeding_a_second_program_adds_only_its_own(db: Database) -> None:
    await _seed(db, "saitama-2026")
    await _seed(db, "kumamoto-2026")
    async with db.transaction() as s:
        per_pref = dict(
            (
                await s.execute(
                    select(Municipality.prefecture_code, func.count()).group_by(
                        Municipality.prefecture_code
                    )
                )
            ).all()
        )
        ids = set((await s.scalars(select(Program.id))).all())
    assert per_pref == {"11": 63, "43": 45}
    assert ids == {"saitama-2026", "kumamoto-2026"}


async def test_demo_data_is_marked_and_plausible(db: Database) -> None:
    await _seed(db, "saitama-2026", demo=True)
    async with db.transaction() as s:
        all_cases = list((await s.scalars(select(Case))).all())
        sessions = list((await s.scalars(select(SupportSession))).all())
        reports = list((await s.scalars(select(SessionReport))).all())
        surveys = list((await s.scalars(select(Survey))).all())
        people = list((await s.scalars(select(User))).all())
    assert all_cases and sessions and reports and surveys and people
    for rows in (all_cases, sessions, reports, surveys, people):
        assert all(r.is_demo for r in rows), f"unmarked demo rows in {type(rows[0]).__name__}"
    statuses = {c.status for c in all_cases}
    assert len(statuses) >= 3, statuses
    assert statuses <= set(cases.STATUSES)
    roles = {u.role for u in people}
    assert roles == {"officer", "expert", "staff", "prefecture", "admin"}
    assert all(c.case_no.startswith("SAI-2026-") for c in all_cases)
    # Nothing happens after "now": the half year ends at the seeding time.
    assert max(c.opened_at for c in all_cases) <= NOW
    assert max(r.created_at for r in reports) <= NOW


# --- cases ---------------------------------------------------------------------------------------


async def _case(s: AsyncSession, program: str, prefix: str, year: int, code: str) -> Case:
    return await cases.create(
        s,
        program_id=program,
        prefix=prefix,
        year=year,
        track_id="soudan",
        municipality_code=code,
        now=NOW,
        actor_label="事務局",
    )


async def test_case_numbers_per_program_and_year(db: Database) -> None:
    await _seed(db, "saitama-2026", "kumamoto-2026")
    async with db.transaction() as s:
        a = await _case(s, "saitama-2026", "SAI", 2026, "111007")
        b = await _case(s, "saitama-2026", "SAI", 2026, "111007")
        k = await _case(s, "kumamoto-2026", "KUM", 2026, "431001")
    async with db.transaction() as s:
        c = await _case(s, "saitama-2026", "SAI", 2026, "111007")
        next_year = await _case(s, "saitama-2026", "SAI", 2027, "111007")
    assert [a.case_no, b.case_no, c.case_no] == ["SAI-2026-0001", "SAI-2026-0002", "SAI-2026-0003"]
    assert k.case_no == "KUM-2026-0001"
    assert next_year.case_no == "SAI-2027-0001"
    async with db.transaction() as s:
        found = await cases.get_by_no(s, " sai-2026-0002 ")
    assert found is not None and found.id == b.id


# SQLite only: PostgreSQL locks the row itself (FOR UPDATE is sent).
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_case_read_for_update_is_not_changed_by_another_process_meanwhile(
    db: Database,
) -> None:
    """A case read to be changed (``get_for_update``) cannot be changed by another process
    before this transaction commits — on SQLite, where ``FOR UPDATE`` is not sent, the read
    takes the write lock (store/db.py) even when nothing was written before it."""
    assert db.dialect == "sqlite"
    await _seed(db, "saitama-2026")
    async with db.transaction() as s:
        case_id = (await _case(s, "saitama-2026", "SAI", 2026, "111007")).id
    other = sqlite3.connect(str(db.url.database), timeout=0.1)  # another process's connection
    try:
        async with db.transaction() as s:
            assert await cases.get_for_update(s, case_id) is not None
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("UPDATE cases SET description = 'meanwhile' WHERE id = ?", (case_id,))
        other.execute("UPDATE cases SET description = 'after' WHERE id = ?", (case_id,))
        other.commit()
    finally:
        other.close()


async def test_set_status_records_history(db: Database) -> None:
    await _seed(db, "saitama-2026")
    async with db.transaction() as s:
        staff = await _add(s, "S1", "staff", name="佐藤")
        case = await _case(s, "saitama-2026", "SAI", 2026, "111007")
    later = NOW + dt.timedelta(hours=2)
    async with db.transaction() as s:
        case = await s.get_one(Case, case.id)
        await cases.set_status(
            s,
            case,
            "coordinating",
            now=later,
            actor_user_id=staff.id,
            actor_label="佐藤",
            reason="専門人材に打診",
        )
    async with db.transaction() as s:
        with pytest.raises(ValueError, match="unknown status"):
            await cases.set_status(
                s,
                await s.get_one(Case, case.id),
                "bogus",
                now=later,
                actor_user_id=None,
                actor_label="",
            )
    async with db.transaction() as s:
        history = await cases.history(s, case.id)
        stored = await s.get_one(Case, case.id)
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, "received"),
        ("received", "coordinating"),
    ]
    change = history[1]
    assert (change.actor_user_id, change.actor_label, change.reason) == (
        staff.id,
        "佐藤",
        "専門人材に打診",
    )
    assert change.at == later
    assert stored.status == "coordinating"
    assert stored.updated_at == later


# --- time --------------------------------------------------------------------------------------------


async def test_datetimes_round_trip_as_aware_utc(db: Database) -> None:
    await _seed(db, "saitama-2026")
    early = dt.datetime(2026, 11, 16, 8, 59, tzinfo=JST)  # 2026-11-15 23:59 UTC
    late = dt.datetime(2026, 11, 16, 9, 1, tzinfo=JST)  # 2026-11-16 00:01 UTC
    async with db.transaction() as s:
        a = await _case(s, "saitama-2026", "SAI", 2026, "111007")
        b = await _case(s, "saitama-2026", "SAI", 2026, "111007")
        a.opened_at, b.opened_at = early, late
    async with db.transaction() as s:
        stored = {c.id: c.opened_at for c in (await s.scalars(select(Case))).all()}
        # A bound in another zone compares by instant on both engines.
        after_nine = list(
            (
                await s.scalars(
                    select(Case.id).where(
                        Case.opened_at >= dt.datetime(2026, 11, 16, tzinfo=dt.UTC)
                    )
                )
            ).all()
        )
    assert stored[a.id] == early and stored[b.id] == late
    for value in stored.values():
        assert value.utcoffset() == dt.timedelta(0)
    assert after_nine == [b.id]


async def test_naive_datetime_refused(db: Database) -> None:
    await _seed(db, "saitama-2026")
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.transaction() as s:
            await users.add(
                s, platform="slack", platform_id="U1", role="staff", now=dt.datetime(2026, 11, 16)
            )
    assert (await _counts(db))["users"] == 0
