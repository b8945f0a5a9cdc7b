"""Retention: each profile says how long a half-finished conversation, a handled chat delivery
(inbox) and a delivered message's text (outbox) are kept; the scheduler's hourly job and
`dxbot remind` apply it, at whatever date the injected clock says. The tables are shared, so the
shortest setting among the loaded programs applies.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot import runtime
from reminders.clock import JST, FixedClock
from reminders.retention import effective, retention_pass
from store import conversations, inbox, outbox
from store.db import Database
from store.models import ConversationState, InboxItem, OutboxMessage
from store.profiles import ProgramProfile, Retention, load_profile
from store.seed import seed_program
from tests.conftest import ChatBot
from tests.test_erase import run

NOW = dt.datetime(2027, 2, 1, 10, 0, tzinfo=JST)
DAY = dt.timedelta(days=1)


def with_retention(program_id: str, **days: int) -> ProgramProfile:
    return load_profile(program_id).model_copy(update={"retention": Retention(**days)})


async def _conversation(
    s: Any, who: str, updated: dt.datetime, expires: dt.datetime | None = None
) -> None:
    await conversations.save(
        s,
        platform="slack",
        user_platform_id=who,
        thread_key="",
        channel=f"D{who}",
        flow="intake",
        step="description",
        data={"description": f"下書き {who}"},
        expires_at=expires or updated + dt.timedelta(hours=1),
        now=updated,
    )


async def _world(db: Database) -> ProgramProfile:
    """Saitama keeps conversations 10 days, deliveries 3, message text 20; Kumamoto keeps
    conversations only 5 (the shortest wins for the shared tables)."""
    saitama = with_retention("saitama-2026", conversation_days=10, inbox_days=3, outbox_days=20)
    async with db.transaction() as s:
        await seed_program(s, saitama, NOW - 90 * DAY)
        await seed_program(s, with_retention("kumamoto-2026", conversation_days=5), NOW - 90 * DAY)
        for who, age in (("U12D", 12), ("U6D", 6), ("U1D", 1)):
            await _conversation(s, who, NOW - age * DAY)
        for n, (age, done) in enumerate(((4, True), (1, True), (10, False))):
            await inbox.add(
                s,
                platform="slack",
                delivery_id=f"Ev{n}",
                person=f"U{n}",
                kind="event",
                body=json.dumps({"text": f"受信 {age}日前"}, ensure_ascii=False),
                now=NOW - age * DAY,
            )
            if done:
                row = await s.scalar(select(InboxItem).where(InboxItem.delivery_id == f"Ev{n}"))
                assert row is not None
                row.done_at = NOW - age * DAY
        for n, (age, delivered) in enumerate(((25, True), (5, True), (30, False))):
            msg = await outbox.enqueue(
                s,
                target_kind="user",
                target=f"U{n}",
                payload={"text": f"送信 {age}日前"},
                now=NOW - age * DAY,
                dedupe_key=f"m{n}",
            )
            assert msg is not None
            if delivered:
                msg.delivered_at = NOW - age * DAY
    return saitama


async def _left(db: Database) -> tuple[list[str], list[str], list[str]]:
    async with db.transaction() as s:
        states = sorted((await s.scalars(select(ConversationState.user_platform_id))).all())
        items = sorted((await s.scalars(select(InboxItem.body))).all())
        texts = [
            str(m.payload.get("text", ""))
            for m in (await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        ]
    return states, [json.loads(b)["text"] for b in items], texts


async def test_the_pass_forgets_what_is_older_than_the_profiles_allow(db: Database) -> None:
    saitama = await _world(db)
    async with db.transaction() as s:
        report = await retention_pass(s, saitama, NOW)
    assert report.rule == Retention(conversation_days=5, inbox_days=3, outbox_days=20)
    assert (report.conversations, report.inbox, report.outbox) == (2, 1, 1)
    states, items, texts = await _left(db)
    assert states == ["U1D"]
    assert sorted(items) == ["受信 10日前", "受信 1日前"]  # the unhandled one is work to do
    assert texts == ["", "送信 5日前", "送信 30日前"]  # rows stay (dedupe), text cleared

    async with db.transaction() as s:  # the same hour again: nothing more
        again = await retention_pass(s, saitama, NOW)
    assert (again.conversations, again.inbox, again.outbox) == (0, 0, 0)

    async with db.transaction() as s:  # a month later
        later = await retention_pass(s, saitama, NOW + 30 * DAY)
    assert (later.conversations, later.inbox, later.outbox) == (1, 1, 1)
    states, items, texts = await _left(db)
    assert states == [] and items == ["受信 10日前"]
    assert texts == ["", "", "送信 30日前"]  # never delivered: still to send
    assert "older than 5 days" in later.line() and "older than 20 days" in later.line()


def test_the_shortest_setting_wins_and_defaults_apply_without_one() -> None:
    a = with_retention("saitama-2026", conversation_days=10, inbox_days=3, outbox_days=20)
    b = with_retention("kumamoto-2026", conversation_days=5, inbox_days=14, outbox_days=60)
    assert effective([a, b]) == Retention(conversation_days=5, inbox_days=3, outbox_days=20)
    assert effective([]) == Retention()
    assert load_profile("yamagata-2026").retention == Retention()
    with pytest.raises(ValidationError, match=r"retention\.inbox_days"):
        ProgramProfile.model_validate(
            {
                **load_profile("yamagata-2026").model_dump(mode="json"),
                "retention": {"inbox_days": 0},
            }
        )


@pytest.fixture
async def jobs(bot: ChatBot) -> AsyncIterator[dict[str, Any]]:
    scheduler = runtime.start_scheduler(bot.services, bot.sender)  # type: ignore[arg-type]
    scheduler.pause()
    try:
        yield {job.id: job.func for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)


async def test_the_scheduler_runs_the_pass_every_hour_at_the_clocks_date(
    bot: ChatBot, clock: FixedClock, jobs: dict[str, Any]
) -> None:
    db: Database = bot.services.db  # type: ignore[attr-defined]
    async with db.transaction() as s:
        await _conversation(s, "UOLD", clock.now() - 31 * DAY)
        await _conversation(s, "UNEW", clock.now() - 29 * DAY)
    await jobs["retention"]()
    assert (await _left(db))[0] == ["UNEW"]  # Saitama's profile: the default 30 days
    clock.advance(days=2)
    await jobs["retention"]()
    assert (await _left(db))[0] == []


def test_dxbot_remind_applies_retention_too(db_url: str, tmp_path: Path) -> None:
    import asyncio

    async def setup() -> None:
        database = Database(db_url)
        try:
            async with database.transaction() as s:
                await seed_program(s, load_profile("saitama-2026"), NOW - 90 * DAY)
                # Left 40 days ago and not yet expired (the expiry pass leaves it be).
                await _conversation(s, "UOLD", NOW - 40 * DAY, expires=NOW + DAY)
        finally:
            await database.dispose()

    asyncio.run(setup())
    done = run(db_url, "remind", "--now", NOW.isoformat(), cwd=tmp_path)
    assert done.returncode == 0, done
    assert "Retention: 1 conversation states older than 30 days" in done.stdout
