"""`dxbot seed`: load a program profile, its prefecture's municipalities and the domains."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from store import programs, reference
from store.demo import seed_demo
from store.profiles import ProgramProfile


@dataclass(frozen=True)
class SeedResult:
    program_id: str
    municipalities_added: int
    demo_people: int = 0
    demo_cases: int = 0


async def seed_program(
    s: AsyncSession, profile: ProgramProfile, now: dt.datetime, *, demo: bool = False
) -> SeedResult:
    """Idempotent: seeding twice leaves one copy of everything."""
    added = await reference.load_municipalities(s, profile.prefecture_code)
    await programs.upsert(s, profile, now)
    await reference.load_domains(s, profile.id, profile.extra_domains)
    if not demo:
        return SeedResult(profile.id, added)
    people, n_cases = await seed_demo(s, profile, now)
    return SeedResult(profile.id, added, people, n_cases)
