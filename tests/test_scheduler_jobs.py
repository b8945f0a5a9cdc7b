"""The jobs `dxbot serve` runs in-process (APScheduler): the reminder pass every 5 minutes, outbox
delivery every 15 seconds, conversation expiry every minute. That serve starts them and stops
them, and that each does its work when it runs, under an injected clock.

Each job is run by calling the function the scheduler holds (its triggers are paused), so the
test decides when a job runs instead of waiting for the interval.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot import runtime
from bot.core.config import Settings
from bot.server import serve
from reminders.clock import FixedClock
from store.models import ConversationState
from tests.conftest import ChatBot
from tests.fakes.slack_server import FakeSlack
from tests.test_reminder_pass import book, jst, texts_to, to

JOBS = {
    "remind": dt.timedelta(minutes=5),
    "deliver": dt.timedelta(seconds=15),
    "expire": dt.timedelta(minutes=1),
    "retention": dt.timedelta(hours=1),
}


@pytest.fixture
async def jobs(bot: ChatBot) -> AsyncIterator[dict[str, Any]]:
    """The scheduler's jobs for the bot's services, delivering to the bot's recording sender."""
    scheduler = runtime.start_scheduler(bot.services, bot.sender)  # type: ignore[arg-type]
    scheduler.pause()  # no run on its own while a test looks
    try:
        yield {job.id: job.func for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)


class _Serving(logging.Handler):
    """Sets ``ready`` when the server logs that it listens (an event, not a poll)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.ready = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("serving slack on "):
            self.ready.set()


async def test_serve_runs_the_three_jobs_while_it_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeSlack()
    await fake.start()
    started: list[Any] = []
    real = runtime.start_scheduler

    def spy(services: Any, sender: Any) -> Any:
        started.append(real(services, sender))
        return started[-1]

    monkeypatch.setattr(runtime, "start_scheduler", spy)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        DXBOT_PROGRAM="saitama-2026",
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET="scheduler-secret",
        SLACK_API_URL=fake.api_url,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    serving = _Serving()
    server_log = logging.getLogger("dxbot.server")
    server_log.addHandler(serving)
    level = server_log.level
    server_log.setLevel(logging.INFO)
    stop = asyncio.Event()
    server = asyncio.ensure_future(
        serve(
            settings,
            adapter="slack",
            host="127.0.0.1",
            port=port,
            socket_mode=False,
            workers=0,
            stop=stop,
        )
    )
    try:
        await asyncio.wait_for(serving.ready.wait(), 60)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as resp,
        ):
            assert resp.status == 200
        (scheduler,) = started
        assert scheduler.running
        assert {job.id: job.trigger.interval for job in scheduler.get_jobs()} == JOBS
        assert all(job.max_instances == 1 and job.coalesce for job in scheduler.get_jobs())
    finally:
        stop.set()
        server_log.removeHandler(serving)
        server_log.setLevel(level)
        assert await asyncio.wait_for(server, 60) == 0
        await fake.stop()
    assert not scheduler.running  # stopped with the server


async def test_the_reminder_job_queues_and_the_delivery_job_sends(
    bot: ChatBot, clock: FixedClock, jobs: dict[str, Any]
) -> None:
    b = await book(bot.services, "2026-11-19 14:00")
    clock.set(jst("2026-11-19 15:00"))

    await jobs["remind"]()
    assert bot.sender.sent == []  # queued in the outbox, not yet sent

    await jobs["deliver"]()
    (ping,) = to(bot, "expert1")
    assert ping.text.startswith(
        "ご支援いただきありがとうございました。支援実施報告の作成をお願いいたします:"
    )
    assert f"{b.case_no}（2026年11月19日(木) 14:00〜15:00実施）期限 2026年11月27日(金)" in ping.text
    assert any(
        f"【{b.case_no}】状態が「実施予定」から「実施済(報告待ち)」に変わりました" in x
        for x in texts_to(bot, "staff")
    )

    await jobs["remind"]()  # the next run sends nothing again
    await jobs["deliver"]()
    assert len(to(bot, "expert1")) == 1


async def _conversations(bot: ChatBot) -> list[tuple[str, str]]:
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        rows = (await s.scalars(select(ConversationState))).all()
        return [(r.user_platform_id, r.flow) for r in rows]


async def test_the_expiry_job_ends_an_abandoned_conversation_and_tells_the_person(
    bot: ChatBot, clock: FixedClock, jobs: dict[str, Any]
) -> None:
    """Intake begun Monday 10:00 and left; the TTL is a day (DXBOT_CONVERSATION_TTL_MINUTES)."""
    await bot.say("officer1", "相談したい")
    assert await _conversations(bot) == [("officer1", "intake")]
    told = len(texts_to(bot, "officer1"))

    clock.set(jst("2026-11-17 09:59"))  # a minute short of a day: kept
    await jobs["expire"]()
    await jobs["deliver"]()
    assert await _conversations(bot) == [("officer1", "intake")]
    assert len(texts_to(bot, "officer1")) == told

    clock.set(jst("2026-11-17 10:00"))
    await jobs["expire"]()
    assert await _conversations(bot) == []
    await jobs["deliver"]()
    assert texts_to(bot, "officer1")[told:] == [
        "前回の「相談受付」の入力は、時間が経ったため取り消しました"
        "（この入力による登録や提出は行われていません）。"
        "必要でしたら、お手数ですがもう一度はじめからお願いいたします。"
    ]

    await jobs["expire"]()  # nothing left to expire, nobody told twice
    await jobs["deliver"]()
    assert len(texts_to(bot, "officer1")) == told + 1


async def test_a_failing_job_is_logged_and_the_next_run_starts_afresh(
    bot: ChatBot,
    clock: FixedClock,
    jobs: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await book(bot.services, "2026-11-19 14:00")
    clock.set(jst("2026-11-19 15:00"))

    async def broken(_services: Any) -> None:
        raise RuntimeError("database went away")

    real = runtime.remind_programs  # one pass of each running program (bot.app)
    monkeypatch.setattr(runtime, "remind_programs", broken)
    with caplog.at_level(logging.ERROR, logger="dxbot.runtime"):
        await jobs["remind"]()  # does not raise into the scheduler
    assert [r.getMessage() for r in caplog.records] == ["reminder pass failed"]
    assert caplog.records[0].exc_info is not None

    monkeypatch.setattr(runtime, "remind_programs", real)
    await jobs["remind"]()
    await jobs["deliver"]()
    assert len(to(bot, "expert1")) == 1
