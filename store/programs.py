"""Programs in the database: a snapshot of the validated profile, loaded by `dxbot seed`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Program
from store.profiles import ProgramProfile


async def upsert(s: AsyncSession, profile: ProgramProfile, now: dt.datetime) -> Program:
    program = await s.get(Program, profile.id)
    if program is None:
        program = Program(id=profile.id)
        s.add(program)
    program.name = profile.name
    program.prefecture_code = profile.prefecture_code
    program.fiscal_year = profile.fiscal_year
    program.term_start = profile.term_start
    program.term_end = profile.term_end
    program.profile = profile.model_dump(mode="json")
    program.loaded_at = now
    await s.flush()
    return program


async def get(s: AsyncSession, program_id: str) -> Program | None:
    return await s.get(Program, program_id)


async def all_programs(s: AsyncSession) -> list[Program]:
    """Every program loaded in this deployment (one database may hold several), by id."""
    return list((await s.scalars(select(Program).order_by(Program.id))).all())
