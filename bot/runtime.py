"""Runtime wiring that depends on the configured platform: which Sender delivers the outbox, and
the in-process scheduler (APScheduler) that runs the periodic jobs."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TextIO

# APScheduler 3 ships no type information (no py.typed).
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]  # APScheduler 3 ships no type information

from bot.app import Services, expire_conversations, remind_programs
from bot.core.notifier import Sender
from reminders.retention import retention_pass
from store import inbox

log = logging.getLogger("dxbot.runtime")

INBOX_KEPT = dt.timedelta(days=7)  # handled deliveries kept this long (Slack retries for hours)


def make_sender(services: Services, out: TextIO) -> Sender:
    """The Sender for the configured platform (console prints; Slack and LoGo call their APIs)."""
    platform = services.settings.platform
    if platform == "slack":
        from bot.adapters.slack import SlackSender

        return SlackSender.from_settings(services.settings)
    if platform == "logo":
        from bot.adapters.logo import LogoSender

        return LogoSender.from_settings(services.settings)
    from bot.adapters.console import ConsoleSender

    return ConsoleSender(out, None)


def start_scheduler(services: Services, sender: Sender) -> AsyncIOScheduler:
    """Reminder pass every 5 minutes, outbox delivery every 15 s, conversation expiry (and the
    forgetting of handled inbox rows) each minute, the retention pass (the profiles'
    ``retention``: reminders/retention.py) each hour.

    Jobs never overlap themselves (max_instances=1), and a failing job is logged, not swallowed:
    the next run starts from the database state, so nothing is lost.
    """
    deliverer = services.deliverer(sender, services.settings.platform)
    scheduler = AsyncIOScheduler(timezone="Asia/Tokyo")

    async def remind() -> None:
        try:
            await remind_programs(services)
        except Exception:
            log.exception("reminder pass failed")

    async def deliver() -> None:
        try:
            await deliverer.deliver_due()
        except Exception:
            log.exception("outbox delivery failed")

    async def expire() -> None:
        try:
            await expire_conversations(services)
            async with services.db.transaction() as s:
                await inbox.purge(s, services.clock.now() - INBOX_KEPT)
        except Exception:
            log.exception("conversation expiry failed")

    async def retain() -> None:
        try:
            async with services.db.transaction() as s:
                await retention_pass(s, services.profile, services.clock.now())
        except Exception:
            log.exception("retention pass failed")

    scheduler.add_job(remind, "interval", minutes=5, max_instances=1, coalesce=True, id="remind")
    # Delivery also runs at once: what a stopped or killed run left in the outbox goes out now.
    scheduler.add_job(
        deliver,
        "interval",
        seconds=15,
        max_instances=1,
        coalesce=True,
        id="deliver",
        next_run_time=dt.datetime.now(dt.UTC),
    )
    scheduler.add_job(expire, "interval", minutes=1, max_instances=1, coalesce=True, id="expire")
    scheduler.add_job(retain, "interval", hours=1, max_instances=1, coalesce=True, id="retention")
    scheduler.start()
    return scheduler
