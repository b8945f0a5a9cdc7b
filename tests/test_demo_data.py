"""The demo data keeps to each shipped program's rules: every session within the term and by
the last day of service (Nagano's term ended 2025-03-14, Miyazaki's 2026-03-31 — both before
the test's today, 2026-11-16), in the 08:00-20:00 window, within the hours ceiling, with an
expert who consented and (on site) can visit, in a municipality its track serves, under the
caps. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.demo import seed_with_demo
from reminders.clock import JST
from store.db import Database
from store.models import ExpertProfile, SessionExpert, SessionMunicipality, SupportSession
from store.profiles import load_profile

NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST)

# Each shipped program's first day and last day of service, as its seed states them.
SERVICE = {
    "yamagata-2026": (dt.date(2026, 4, 1), dt.date(2027, 3, 31)),
    "miyazaki-2025": (dt.date(2025, 4, 1), dt.date(2026, 3, 31)),
    "saitama-2026": (dt.date(2026, 4, 1), dt.date(2027, 3, 19)),  # 履行期限 (§3)
    "nagano-2024": (dt.date(2024, 8, 15), dt.date(2025, 3, 14)),
    "kumamoto-2026": (dt.date(2026, 4, 1), dt.date(2027, 3, 31)),
}
MIYAZAKI_CITY, MIYAKONOJO = "452017", "452025"


@pytest.mark.parametrize("program_id", sorted(SERVICE))
async def test_demo_sessions_keep_to_the_programs_rules(db: Database, program_id: str) -> None:
    profile = load_profile(program_id)
    async with db.transaction() as s:
        await seed_with_demo(s, profile, NOW)
    async with db.transaction() as s:
        sessions = list(
            (
                await s.scalars(
                    select(SupportSession).where(SupportSession.program_id == program_id)
                )
            ).all()
        )
        places = {
            (sid, code)
            for sid, code in (
                await s.execute(
                    select(SessionMunicipality.session_id, SessionMunicipality.municipality_code)
                )
            ).all()
        }
        experts = (
            await s.execute(
                select(
                    SessionExpert.session_id, ExpertProfile.onsite, ExpertProfile.consent_listed
                ).join(ExpertProfile, ExpertProfile.user_id == SessionExpert.user_id)
            )
        ).all()

    first, last = SERVICE[program_id]
    assert len(sessions) >= 10  # a demo worth looking at
    for sess in sessions:
        start = sess.starts_at.astimezone(JST)
        end = sess.ends_at.astimezone(JST)
        assert first <= start.date() <= last, (program_id, start)
        assert dt.time(8, 0) <= start.time() and end.time() <= dt.time(20, 0), (program_id, start)
        assert end.date() == start.date()
        assert sess.hours <= 8
    by_id = {sess.id: sess for sess in sessions}
    for sid, onsite, consent in experts:
        if sid in by_id:
            assert consent
            assert onsite or by_id[sid].method != "onsite"
    if program_id == "miyazaki-2025":  # 標準化 serves 24 municipalities, not these two (§6(1)ア)
        hyojunka = {sess.id for sess in sessions if sess.track_id == "hyojunka"}
        assert hyojunka
        assert not {code for sid, code in places if sid in hyojunka} & {MIYAZAKI_CITY, MIYAKONOJO}
    if program_id == "saitama-2026":  # at most 5 dispatches per municipality (§6(6)エ)
        per_muni: dict[str, int] = {}
        for sid, code in places:
            if sid in by_id and by_id[sid].track_id == "haken":
                per_muni[code] = per_muni.get(code, 0) + 1
        assert max(per_muni.values()) <= 5
