"""What every `dxbot` command shares once its arguments are parsed: the settings, the one place
that turns expected failures into an English sentence and an exit code, the services of one
command (``cli_services``, or ``cli_core`` for a command that needs no handler), and the date
arguments.

This module does not import ``bot.app`` at start-up: that imports every handler and the
conversation engine, most of a second, which a command such as `dxbot deck` never uses."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from bot.core import logs
from bot.core.config import Settings
from bot.core.errors import CliError
from bot.services import Core, build_core, ensure_schema
from reminders.clock import JST, Clock, FixedClock, SystemClock
from store import programs
from store.db import DatabaseError
from store.profiles import ProfileError

if TYPE_CHECKING:
    from bot.app import Services

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
C = TypeVar("C", bound=Core)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CliError(f"Setting {first['loc'][0]} is invalid: {first['msg']}.") from exc


def resolve(handler: str) -> Command:
    """The coroutine a sub-command names as ``"module:function"`` (see bot.cli)."""
    module, _, name = handler.partition(":")
    command: Command = getattr(importlib.import_module(module), name)
    return command


def execute(args: argparse.Namespace) -> int:
    """Run the parsed command; an expected failure is one line ``error: …`` and exit code 2."""
    try:
        settings = load_settings()
        logs.configure(settings.log_level)
        return asyncio.run(resolve(args.handler)(args, settings))
    except (CliError, DatabaseError, ProfileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        return 0


def cli_services(
    settings: Settings, args: argparse.Namespace, *, program_loaded: bool = False
) -> AbstractAsyncContextManager[Services]:
    """The services of one command, closed when it ends whatever happens.

    The program and the clock come from the command's ``--program`` and ``--now`` when it has
    them. The schema must be current: the embedded SQLite database is migrated on the spot, any
    other asks for `dxbot db upgrade` (see ``ensure_schema``). With ``program_loaded`` the program
    must also have been seeded, or the command is refused saying what to run.
    """
    # Imported here, not at the top: see the module's docstring.
    from bot.app import build_services

    return _opened(lambda s, clock: build_services(s, clock=clock), settings, args, program_loaded)


def cli_core(
    settings: Settings, args: argparse.Namespace, *, program_loaded: bool = False
) -> AbstractAsyncContextManager[Core]:
    """As ``cli_services``, without the router and the dispatcher (no handler is imported)."""
    return _opened(lambda s, clock: build_core(s, clock=clock), settings, args, program_loaded)


@asynccontextmanager
async def _opened(
    build: Callable[[Settings, Clock], C],
    settings: Settings,
    args: argparse.Namespace,
    program_loaded: bool,
) -> AsyncIterator[C]:
    program = getattr(args, "program", None)
    if program:
        settings = settings.model_copy(update={"program": program})
    now = getattr(args, "now", None)
    clock = FixedClock(parse_datetime(now)) if now else SystemClock()
    services = build(settings, clock)
    try:
        await ensure_schema(services.db, auto=False)
        if program_loaded:
            async with services.db.transaction() as s:
                if await programs.get(s, services.profile.id) is None:
                    raise CliError(
                        f"Program {services.profile.id} is not loaded; run "
                        f"`dxbot seed --program {services.profile.id}` first."
                    )
        yield services
    finally:
        await services.db.dispose()


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CliError(f"{text!r} is not a date; use YYYY-MM-DD.") from exc


def parse_datetime(text: str) -> dt.datetime:
    """An ISO 8601 time; without an offset it is Japan's (the product's one time zone)."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise CliError(
            f"{text!r} is not a date and time; use ISO 8601, e.g. 2026-12-03T14:00."
        ) from exc
    return value.replace(tzinfo=JST) if value.tzinfo is None else value
