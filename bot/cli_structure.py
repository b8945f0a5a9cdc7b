"""`dxbot events add|list` and `dxbot deliverables list|done`: the program's meetings and events
and what it owes, for cron jobs and administrators (the chat has `/dx event`, `/dx events`,
`/dx deliverables`, `/dx done`).

bot/cli.py imports this module for its argument tree while building `dxbot --help`, so nothing
heavy is imported at module level: the store and the handlers are imported by each command.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.config import Settings

AddProgram = Callable[[argparse.ArgumentParser, list[str]], None]
Command = Callable[[argparse.Namespace, "Settings"], Awaitable[int]]


def _exit_one(command: Command) -> Command:
    """Bad input (an unknown kind or id, a date outside the term, an item already closed) is one
    line ``error: …`` on stderr and exit code 1, as the issue asks of these commands."""

    @functools.wraps(command)
    async def run(args: argparse.Namespace, settings: Settings) -> int:
        from bot.core.errors import CliError

        try:
            return await command(args, settings)
        except CliError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    programs: list[str],
    program_option: AddProgram,
) -> None:
    """The `events` and `deliverables` sub-commands (called from bot/cli.py)."""
    ev = sub.add_parser("events", help="meetings and events the program holds or counts")
    ev_sub = ev.add_subparsers(dest="events_command", required=True)
    add = ev_sub.add_parser(
        "add", help="record a meeting or event (a meeting makes its minutes due)"
    )
    add.set_defaults(handler="bot.cli_structure:cmd_events_add")
    add.add_argument("--kind", required=True, help="the profile's events[].id or its name")
    add.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    add.add_argument("--place", default="", metavar="T")
    add.add_argument("--attendee", action="append", default=[], metavar="NAME")
    add.add_argument("--notes", default="", metavar="T")
    program_option(add, programs)
    add.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)
    ls = ev_sub.add_parser("list", help="the recorded events and their counts")
    ls.set_defaults(handler="bot.cli_structure:cmd_events_list")
    program_option(ls, programs)
    ls.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)

    dv = sub.add_parser("deliverables", help="what the program owes and by when")
    dv_sub = dv.add_subparsers(dest="deliverables_command", required=True)
    dl = dv_sub.add_parser("list", help="the open deliverable items (all with --all)")
    dl.set_defaults(handler="bot.cli_structure:cmd_deliverables_list")
    dl.add_argument("--all", action="store_true", help="the closed ones too")
    program_option(dl, programs)
    dl.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)
    dd = dv_sub.add_parser("done", help="mark a deliverable item done (ID as D12 or 12)")
    dd.set_defaults(handler="bot.cli_structure:cmd_deliverables_done")
    dd.add_argument("item", metavar="ID")
    program_option(dd, programs)
    dd.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)


@_exit_one
async def cmd_events_add(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import system_context
    from bot.cli_common import cli_services, parse_date
    from bot.core.errors import CliError, UserError
    from handlers.events import record_event

    day = parse_date(args.date)
    async with (
        cli_services(settings, args, program_loaded=True) as services,
        services.db.transaction() as s,
    ):
        try:
            done = await record_event(
                system_context(services, s),
                args.kind,
                day,
                place=args.place,
                attendees=args.attendee,
                notes=args.notes,
            )
        except UserError as exc:
            raise CliError(exc.render(lang="en")) from exc
        ev, kind = done.event, done.kind
        items = [(i.id, i.title, i.due_on) for i in done.items]
    print(f"Recorded E{ev.id}: {kind.id} ({kind.name}) on {ev.held_on.isoformat()}.")
    for item_id, title, due in items:
        print(f"  D{item_id} {title} due {due.isoformat()}")
    return 0


@_exit_one
async def cmd_events_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_common import cli_services
    from reminders.clock import JST
    from store import program_events

    async with (
        cli_services(settings, args, program_loaded=True) as services,
        services.db.transaction() as s,
    ):
        profile = services.profile
        events = await program_events.listed(s, profile.id)
        today = services.clock.now().astimezone(JST).date()
        held = await program_events.counts(s, profile.id, held_by=today)
    for e in events:
        extra = f" at {e.place}" if e.place else ""
        who = f" ({', '.join(e.attendees)})" if e.attendees else ""
        print(f"E{e.id}\t{e.held_on.isoformat()}\t{e.kind}{extra}{who}")
    if not events:
        print("No events recorded.")
    for k in profile.events:
        expected = "" if k.expected is None else f" of {k.expected} expected"
        print(f"{k.id} ({k.name}): {held.get(k.id, 0)} held{expected}")
    return 0


@_exit_one
async def cmd_deliverables_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_common import cli_services
    from reminders import deliverable_pass
    from reminders.clock import JST
    from store import deliverables

    async with (
        cli_services(settings, args, program_loaded=True) as services,
        services.db.transaction() as s,
    ):
        now = services.clock.now()
        await deliverable_pass.refresh(s, services.profile, services.calendar, now)
        items = await deliverables.listed(s, services.profile.id, include_done=args.all)
        today = now.astimezone(JST).date()
        rows = []
        for i in items:
            if i.done_at is not None:
                state = f"done {i.done_at.astimezone(JST):%Y-%m-%d %H:%M} by {i.done_by}"
            elif i.due_on < today:
                late = services.calendar.open_days_until(i.due_on, today)
                state = f"overdue by {late} open day(s)"
            else:
                state = "open"
            rows.append(f"D{i.id}\t{i.due_on.isoformat()}\t{i.spec_id}\t{i.title}\t{state}")
    print("\n".join(rows) if rows else "No deliverables open.")
    return 0


@_exit_one
async def cmd_deliverables_done(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import system_context
    from bot.cli_common import cli_services
    from bot.core.errors import CliError, UserError
    from handlers.deliverables import close_item, item_id
    from reminders.clock import JST

    if item_id(args.item) is None:
        raise CliError(f"ID must look like D12 or 12, not {args.item!r}.")
    async with (
        cli_services(settings, args, program_loaded=True) as services,
        services.db.transaction() as s,
    ):
        try:
            item = await close_item(system_context(services, s), args.item)
        except UserError as exc:
            raise CliError(exc.render(lang="en")) from exc
        assert item.done_at is not None
        line = (
            f"Marked D{item.id} {item.title} done "
            f"({item.done_at.astimezone(JST):%Y-%m-%d %H:%M}, {item.done_by})."
        )
    print(line)
    return 0
