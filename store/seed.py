"""`dxbot seed`: load a program profile, its prefecture's municipalities and the domains."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from store import audit, programs, reference
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
    before = await programs.get(s, profile.id)
    before_profile = dict(before.profile) if before is not None else None
    program = await programs.upsert(s, profile, now)
    await reference.load_domains(s, profile.id, profile.extra_domains)
    if before_profile == program.profile:
        return SeedResult(profile.id, added)
    await audit.record(
        s,
        at=now,
        actor="cli",
        action="program_seeded" if before_profile is None else "profile_updated",
        object_type="program",
        object_id=profile.id,
        detail={"name": profile.name, "municipalities_added": added},
        program_id=profile.id,
    )
    return SeedResult(profile.id, added)
