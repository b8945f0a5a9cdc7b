"""`dxbot status`, `dxbot export` and `dxbot deck` (the interface contract in ARCHITECTURE.md).

The same views and files as `/status`, `/dx export` and `/deck` in the chat. Without `--as`,
status runs as the system (the whole program); with `--as PLATFORM_ID` it shows what that user
would see; `--json` prints the same view as the JSON documented in the README. Expected failures are one English sentence (``CliError``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli_common import cli_core, cli_services, parse_date
from bot.core.config import Settings
from bot.core.errors import CliError, UserError
from reminders.clock import JST
from store import reporting

# `dxbot deck` needs no handler and no chat context: what only status and queue use (bot.app
# with every handler, the chat context) is imported inside them, so the deck starts without it
# (see bot.cli_common).
if TYPE_CHECKING:
    from bot.core.context import Context


@contextlib.asynccontextmanager
async def viewer_context(args: argparse.Namespace, settings: Settings) -> AsyncIterator[Context]:
    """The context of a read-only command (`status`, `queue`): its services and one
    transaction, as the system or, with `--as`, as that user; a ``UserError`` raised inside
    becomes the command's English sentence."""
    from bot.app import system_context

    async with (
        cli_services(settings, args, program_loaded=True) as services,
        services.db.transaction() as s,
    ):
        ctx = await _as_user(
            system_context(services, s), args.as_user, program_given=bool(args.program)
        )
        try:
            yield ctx
        except UserError as exc:
            raise CliError(_english(exc)) from exc


async def _as_user(ctx: Context, platform_id: str | None, program_given: bool) -> Context:
    """The context as a registered user would have it (`--as`), else the system's.

    Without ``--program`` the user's own program is shown, as in the chat: the one they are a
    member of, or the one they chose last; a member of several who has not chosen must say which.
    """
    from bot.core.permissions import Actor
    from bot.core.program_choice import ProgramCatalog
    from store import users

    if not platform_id:
        return ctx
    found = await users.find_by_platform_id(ctx.s, platform_id)
    if not found:
        raise CliError(f"No registered user {platform_id!r}; see `dxbot users list`.")
    ctx = dataclasses.replace(ctx, actor=Actor.of_user(found[0]))
    if program_given:
        return ctx
    catalog = ProgramCatalog()
    profile, members = await catalog.of_person(ctx.s, found[0].id, ctx.profile)
    if profile is None:
        ids = ", ".join(m.program_id for m in members)
        raise CliError(
            f"{platform_id} works in several programs ({ids}); say which with --program ID."
        )
    return dataclasses.replace(ctx, profile=profile, calendar=catalog.calendar(profile))


async def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.status import case_json_text, case_text, status_json_text, status_text

    async with viewer_context(args, settings) as ctx:
        if args.case:
            text = await (case_json_text if args.json else case_text)(ctx, args.case)
        else:
            text = await (status_json_text if args.json else status_text)(ctx)
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

    async with (
        cli_services(settings, args, program_loaded=True) as services,
        services.db.transaction() as s,
    ):
        f = await export.export(s, services.profile, args.kind, args.format, services.clock.now())
    _write(f.content, args.out)
    if args.out:
        print(f"Wrote {args.kind} as {args.format} to {args.out}.", file=sys.stderr)
    return 0


async def cmd_deck(args: argparse.Namespace, settings: Settings) -> int:
    from reports import deck
    from reports.status import Period

    if not args.out.lower().endswith(".pptx"):
        raise CliError(f"--out must name a .pptx file, not {args.out!r}.")
    async with cli_core(settings, args, program_loaded=True) as services:
        today = services.clock.now().astimezone(JST).date()
        period = deck.default_period(args.kind, services.profile, today)
        start = parse_date(args.from_date) if args.from_date else period.start
        end = parse_date(args.to_date) if args.to_date else period.end
        if args.from_date and not args.to_date and args.kind == "monthly":
            end = deck.month_period(start.year, start.month).end
        if end < start:
            raise CliError("--to is before --from; give the earlier date first.")
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
    _write(f.content, args.out)
    print(f"Wrote {f.slides} slides ({args.kind}, {start} to {end}) to {args.out}.")
    return 0
