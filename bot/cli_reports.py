"""`dxbot status`, `dxbot export` and `dxbot deck` (the interface contract in ARCHITECTURE.md).

The same views and files as `/status`, `/dx export` and `/deck` in the chat. Without `--as`,
status runs as the system (the whole program); with `--as PLATFORM_ID` it shows what that user
would see. Expected failures are one English sentence (``CliError``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from bot.app import Services, ensure_schema, system_context
from bot.cli import _parse_date, _services
from bot.core.config import Settings
from bot.core.context import Context
from bot.core.errors import CliError, UserError
from bot.core.permissions import Actor
from reminders.clock import JST
from store import programs, reporting, users
from store.profiles import PROGRAM_IDS


async def _checked(services: Services) -> None:
    """Schema current and the program loaded, or an English sentence saying what to run."""
    await ensure_schema(services.db, auto=False)
    async with services.db.transaction() as s:
        if await programs.get(s, services.profile.id) is None:
            raise CliError(
                f"Program {services.profile.id} is not loaded; run "
                f"`dxbot seed --program {services.profile.id}` first."
            )


async def _as_user(ctx: Context, platform_id: str | None) -> Context:
    """The context as a registered user would have it (`--as`), else the system's."""
    if not platform_id:
        return ctx
    found = await users.find_by_platform_id(ctx.s, platform_id)
    if not found:
        raise CliError(f"No registered user {platform_id!r}; see `dxbot users list`.")
    return dataclasses.replace(ctx, actor=Actor.of_user(found[0]))


async def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.status import case_text, status_text

    services = _services(settings, args)
    try:
        await _checked(services)
        async with services.db.transaction() as s:
            ctx = await _as_user(system_context(services, s), args.as_user)
            try:
                text = await case_text(ctx, args.case) if args.case else await status_text(ctx)
            except UserError as exc:
                raise CliError(_english(exc)) from exc
    finally:
        await services.db.dispose()
    print(text)
    return 0


def _english(exc: UserError) -> str:
    if exc.key == "case_not_found":
        return (
            f"Case {exc.params.get('case_no', '')} does not exist or is not visible to this user."
        )
    if exc.key == "forbidden":
        return "This user's role may not see the status."
    return exc.render(lang="en")


def _write(data: bytes, out: str | None) -> None:
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise CliError(f"Cannot write {path}: {exc.strerror}.") from exc


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from reports import export

    services = _services(settings, args)
    try:
        await _checked(services)
        async with services.db.transaction() as s:
            f = await export.export(
                s, services.profile, args.kind, args.format, services.clock.now()
            )
    finally:
        await services.db.dispose()
    _write(f.content, args.out)
    if args.out:
        print(f"Wrote {args.kind} as {args.format} to {args.out}.", file=sys.stderr)
    return 0


async def cmd_deck(args: argparse.Namespace, settings: Settings) -> int:
    from reports import deck
    from reports.status import Period

    if not args.out.lower().endswith(".pptx"):
        raise CliError(f"--out must name a .pptx file, not {args.out!r}.")
    services = _services(settings, args)
    today = services.clock.now().astimezone(JST).date()
    period = deck.default_period(args.kind, services.profile, today)
    start = _parse_date(args.from_date) if args.from_date else period.start
    end = _parse_date(args.to_date) if args.to_date else period.end
    if args.from_date and not args.to_date and args.kind == "monthly":
        end = deck.month_period(start.year, start.month).end
    if end < start:
        raise CliError("--to is before --from; give the earlier date first.")
    try:
        await _checked(services)
        async with services.db.transaction() as s:
            data = await deck.load_deck_data(
                s,
                services.profile,
                services.calendar,
                services.clock.now(),
                args.kind,
                Period(start, end),
            )
            names = await reporting.people_names(s)
        data.narrative = await deck.narrate(services.llm, data, names)
        f = deck.deck_file(data)
    finally:
        await services.db.dispose()
    _write(f.content, args.out)
    print(f"Wrote {f.slides} slides ({args.kind}, {start} to {end}) to {args.out}.")
    return 0


def add_parsers(sub: Any) -> None:
    """Add `status`, `export` and `deck` to the `dxbot` parser's sub-commands."""
    st = sub.add_parser("status", help="the same view as /status")
    st.add_argument("--as", dest="as_user", metavar="PLATFORM_ID")
    st.add_argument("--program", choices=PROGRAM_IDS)
    st.add_argument("--case", metavar="CASE_ID")
    st.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)
    st.set_defaults(func=cmd_status)

    ex = sub.add_parser("export", help="cases, sessions or reports as CSV, Excel or JSON")
    ex.add_argument("kind", choices=("cases", "sessions", "reports"))
    ex.add_argument("--format", required=True, choices=("csv", "xlsx", "json"))
    ex.add_argument("--out", metavar="FILE", help="default: standard output")
    ex.add_argument("--program", choices=PROGRAM_IDS)
    ex.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)
    ex.set_defaults(func=cmd_export)

    dk = sub.add_parser("deck", help="a PowerPoint deck for a period")
    dk.add_argument("--program", choices=PROGRAM_IDS)
    dk.add_argument("--from", dest="from_date", metavar="DATE")
    dk.add_argument("--to", dest="to_date", metavar="DATE")
    dk.add_argument("--kind", choices=("summary", "monthly", "completion"), default="summary")
    dk.add_argument("--out", required=True, metavar="FILE.pptx")
    dk.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)
    dk.set_defaults(func=cmd_deck)
