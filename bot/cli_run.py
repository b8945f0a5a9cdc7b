"""`dxbot run`, `chat`, `serve` and `remind` (the interface contract in ARCHITECTURE.md): the bot
itself, on the console or behind an HTTP server, and one reminder pass for cron deployments."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from bot.app import ensure_program, expire_conversations, load_program, remind_once, remind_programs
from bot.cli_common import cli_services
from bot.core import logs
from bot.core.catalog import t
from bot.core.config import Settings
from bot.core.errors import CliError
from reminders.calendar import BusinessCalendar, format_jp, format_jp_datetime
from reminders.clock import JST, SystemClock
from store import rules
from store.profiles import ProgramProfile


async def cmd_remind(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import make_sender
    from reminders.retention import retention_pass

    async with cli_services(settings, args) as services:
        expired = await expire_conversations(services)
        async with services.db.transaction() as s:
            kept = await retention_pass(s, services.profile, services.clock.now())
        # --program: that program alone (an ended one too); else every program still running.
        report = await (remind_once(services) if args.program else remind_programs(services))
        sender = make_sender(services, sys.stdout)
        delivery = await services.deliverer(sender, settings.platform).deliver_due(limit=1000)
    for line in report.sent:
        print(f"queued: {line}")
    print(
        f"Reminder pass at {services.clock.now().isoformat()}: {report.ended} sessions ended, "
        f"{len(report.sent)} pings queued, {report.collapsed} missed steps collapsed, "
        f"{expired} conversations expired; delivered {delivery.delivered}, "
        f"failed {delivery.failed} (kept in the outbox for retry)."
    )
    print(kept.line())
    return 0 if delivery.failed == 0 else 1


def inside_term(profile: ProgramProfile) -> dt.datetime:
    """The console's clock for a program whose last day of service has passed: 10:00 JST on
    its last 開庁日 (the last day of service, or the open day before it when that is closed),
    so every journey — a new case, a session that afternoon, the report — can still be tried."""
    calendar = BusinessCalendar(profile.closed_days)
    day = calendar.previous_open_day(profile.service_end, include_self=True)
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=JST)


def ended_program_clock(settings: Settings, program_id: str | None) -> str | None:
    """``inside_term`` as ISO 8601 for a program whose last day of service has passed, else
    None (the system clock)."""
    profile = load_program(settings, program_id)
    if not rules.program_ended(profile, SystemClock().now()):
        return None
    return inside_term(profile).isoformat()


def console_clock_note(args: argparse.Namespace, settings: Settings) -> str:
    """For an ended program opened without ``--now``, set ``args.now`` inside its term and say
    so (the banner's second line); otherwise nothing changes and the note is empty."""
    if getattr(args, "now", None):
        return ""
    profile = load_program(settings, getattr(args, "program", None))
    if not rules.program_ended(profile, SystemClock().now()):
        return ""
    when = inside_term(profile)
    args.now = when.isoformat()
    return t(
        "console_clock_inside_term",
        last=format_jp(profile.service_end),
        now=format_jp_datetime(when),
    )


async def _console(args: argparse.Namespace, settings: Settings) -> int:
    """The console adapter on the configured database, the program (``--program``, else
    DXBOT_PROGRAM) seeded with demo people first if it is missing, so a newcomer can talk to
    the bot at once. A program that has ended runs on a clock inside its term (see
    ``inside_term``), and the banner says which date."""
    from bot.adapters.console import ConsoleAdapter

    if "DXBOT_LOG_LEVEL" not in os.environ:
        # The console is a conversation on the terminal: log lines would drown it.
        logs.configure("WARNING")
    note = console_clock_note(args, settings)
    async with cli_services(settings, args) as services:
        await ensure_program(services, demo=True)
        adapter = ConsoleAdapter(
            services, files_dir=Path(args.files_dir) if args.files_dir else None
        )
        adapter.banner_note = note
        if getattr(args, "script", None):
            try:
                lines = Path(args.script).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise CliError(f"Cannot read script {args.script}: {exc.strerror}.") from exc
            return await adapter.run_script(lines)
        who = getattr(args, "as_user", None) or await adapter.default_user()
        await adapter.resolve_user(who)
        return await adapter.run_interactive(who, sys.stdin, sys.stdin.isatty())


async def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    return await _console(args, settings)


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if args.program:  # the program this deployment runs, on every platform
        settings = settings.model_copy(update={"program": args.program})
    if settings.platform != "console":
        from bot.server import serve

        return await serve(
            settings,
            adapter=settings.platform,
            host=args.host,
            port=args.port,
            socket_mode=settings.slack_app_token is not None,
        )
    return await _console(args, settings)


async def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.server import serve

    return await serve(
        settings,
        adapter=args.adapter,
        host=args.host,
        port=args.port,
        socket_mode=args.socket_mode,
        workers=args.workers,
    )
