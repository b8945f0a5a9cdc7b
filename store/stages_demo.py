"""Demo stages: where the profile has a stage model, the demo engagements are at varied stages
with their KPI marks, so `/status`, `dxbot status --json` and the decks show the municipality ×
stage matrix on `make run`.

The cases are the demo cases with an Engagement row (bot/demo_engagements.py makes them); a
program whose demo has none yet gets stages on the first demo case of each municipality of its
engagement tracks instead. Deterministic (seeded by the program), and varied: the stage follows
the sessions held (about one stage per session, a step ahead or behind), the stages passed have
their KPI met, the current one met or not yet, and now and then a passed stage was never asked
(a step the municipality had done before the support began). Cases with no held session stay
without a stage. Running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Case, Engagement, StageMark, SupportSession
from store.profiles import ProgramProfile
from store.stages import engagement_tracks, record_stage

RECORDER = "デモ（専門人材）"


async def _held(
    s: AsyncSession, case_ids: list[int], now: dt.datetime
) -> dict[int, tuple[int, int, dt.datetime]]:
    """case id → (sessions held, the last one's id, its end) for cases with a held session."""
    rows = (
        await s.execute(
            select(SupportSession.case_id, SupportSession.id, SupportSession.ends_at)
            .where(
                SupportSession.case_id.in_(case_ids),
                SupportSession.status != "cancelled",
                SupportSession.ends_at <= now,
            )
            .order_by(SupportSession.case_id, SupportSession.ends_at)
        )
    ).all()
    out: dict[int, tuple[int, int, dt.datetime]] = {}
    for case_id, sid, ends in rows:
        n = out[case_id][0] + 1 if case_id in out else 1
        out[int(case_id)] = (n, int(sid), ends)
    return out


async def _cases(s: AsyncSession, profile: ProgramProfile) -> list[Case]:
    engaged = list(
        (
            await s.scalars(
                select(Case)
                .join(Engagement, Engagement.case_id == Case.id)
                .where(Case.program_id == profile.id, Case.is_demo.is_(True))
                .order_by(Case.id)
            )
        ).all()
    )
    if engaged:
        return engaged
    tracks = engagement_tracks(profile)
    if not tracks:
        return []
    seen: set[tuple[str, str]] = set()
    out = []
    for case in (
        await s.scalars(
            select(Case)
            .where(
                Case.program_id == profile.id,
                Case.is_demo.is_(True),
                Case.track_id.in_(tracks),
                Case.status != "withdrawn",
            )
            .order_by(Case.id)
        )
    ).all():
        if (case.track_id, case.municipality_code) not in seen:
            seen.add((case.track_id, case.municipality_code))
            out.append(case)
    return out


async def add_demo_stages(s: AsyncSession, profile: ProgramProfile, now: dt.datetime) -> int:
    """Mark the stages of the demo engagements; the number of cases given a stage."""
    model = profile.stage_model
    if model is None:
        return 0
    cases = await _cases(s, profile)
    if not cases:
        return 0
    marked = await s.scalar(
        select(func.count())
        .select_from(StageMark)
        .where(StageMark.case_id.in_([c.id for c in cases]))
    )
    if marked:
        return 0
    held = await _held(s, [c.id for c in cases], now)
    rng = random.Random(f"{profile.id}:stages")
    stages = model.stages
    made = 0
    for case in cases:
        if case.id not in held:
            continue
        n, last_session, ended = held[case.id]
        pos = max(0, min(len(stages) - 1, n - 1 + rng.choice((-1, 0, 0, 1))))
        for i, stage in enumerate(stages[: pos + 1]):
            current = i == pos
            if not current and rng.random() < 0.15:
                continue  # done before the support began: reached, its KPI never asked
            met = (rng.random() < 0.4) if current else True
            await record_stage(
                s,
                case,
                stage.number,
                met if stage.kpi is not None else None,
                session_id=last_session if current else None,
                recorded_by=RECORDER,
                now=min(now, ended),
            )
        # The current stage is the furthest one, even when a passed one was left unmarked.
        case.stage = stages[pos].number
        made += 1
    return made
