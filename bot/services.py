"""The part of the composition root that needs no handler: the settings, the database, the
clock, the program's profile and calendar, and the LLM client.

``bot.app.build_services`` builds these here and adds the router and the dispatcher (every
handler, the conversation engine). A command that only reads and renders, such as `dxbot deck`,
uses ``build_core`` alone and so does not pay for importing all handlers at start-up (about
0.8 s of a 2 s command before this split). Keep this module's imports light for that reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.config import Settings
from bot.core.errors import CliError
from bot.core.llm import LLM, make_llm
from reminders.calendar import BusinessCalendar
from reminders.clock import Clock, SystemClock
from store.db import Database
from store.profiles import ProgramProfile, default_program, load_profile


@dataclass
class Core:
    """What every command and every adapter works with; ``bot.app.Services`` extends it."""

    settings: Settings
    db: Database
    clock: Clock
    profile: ProgramProfile
    calendar: BusinessCalendar
    llm: LLM


def load_program(settings: Settings, program_id: str | None = None) -> ProgramProfile:
    """The profile a command runs: ``program_id``, else DXBOT_PROGRAM, else the one profile
    marked ``demo_default`` — shipped or from DXBOT_PROFILES_DIR."""
    folder = settings.profiles_dir
    return load_profile(program_id or settings.program or default_program(folder), folder)


def build_core(
    settings: Settings,
    *,
    clock: Clock | None = None,
    llm: LLM | None = None,
    inline_sqlite: bool = False,
) -> Core:
    """``inline_sqlite``: a worker process's database (store/sqlite_inline.py)."""
    profile = load_program(settings)
    return Core(
        settings=settings,
        db=Database(settings.database_url, inline=inline_sqlite),
        clock=clock or SystemClock(),
        profile=profile,
        calendar=BusinessCalendar(profile.closed_days),
        llm=llm or make_llm(settings),
    )


async def ensure_schema(db: Database, *, auto: bool) -> None:
    """Migrate the embedded database automatically; ask for `dxbot db upgrade` elsewhere, where
    a deploy step (not whichever replica starts first) should own migrations."""
    # Imported here: store.migrate imports Alembic only when the schema is not current.
    from store.migrate import schema_is_current, upgrade

    await db.check()
    if await schema_is_current(db):
        return
    if auto or db.dialect == "sqlite":
        await upgrade(db.engine)
        return
    raise CliError("The database schema is not up to date; run `dxbot db upgrade` first.")
