"""`dxbot seed`: load a program profile, its prefecture's municipalities and the domains."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from store import programs, reference
from store.profiles import ProgramProfile


@dataclass(frozen=True)
class SeedResult:
    program_id: str
    municipalities_added: int
    demo_people: int = 0
    demo_cases: int = 0


async def seed_program(s: AsyncSession, profile: ProgramProfile, now: dt.datetime) -> SeedResult:
    """Idempotent: seeding twice leaves one copy of everything. Demo people and cases are made
    above the store (``bot.demo.seed_with_demo``)."""
    added = await reference.load_municipalities(s, profile.prefecture_code)
    await programs.upsert(s, profile, now)
    await reference.load_domains(s, profile.id, profile.extra_domains)
    return SeedResult(profile.id, added)
