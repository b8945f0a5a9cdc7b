"""Stages of an engagement: which step of the profile's stage model a case has reached
(``Case.stage``) and, per step, whether its KPI is met (``StageMark``).

Which cases carry stages (decided here, once):
- the follow-up asks for the stage on a case of a track that runs engagements
  (``Track.expected_municipalities`` is set) or on a case with an ``Engagement`` row (staff may
  record one on any track) — so the stage is kept from the first session on, even before staff
  have recorded the engagement;
- the matrix lists the cases with an Engagement row (the engaged municipalities, as the
  engagement counts) and any case with a stage recorded;
- the goal reminder concerns an Engagement whose goal is empty ('' until agreed); a case with no
  Engagement row has no engagement to set a goal on yet.
Withdrawn cases carry none.

The stage model is linear: the current stage is the furthest one reached, so recording a stage
removes the marks of any later stage (a correction downwards undoes them; a skipped stage,
already done before the support began, counts as reached with its KPI not asked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Case, Engagement, Municipality, ReminderLedger, StageMark, SupportSession
from store.profiles import ProgramProfile

ENDED_STATUSES = ("withdrawn",)  # cases shown nowhere in the stage views
GOAL_KEY = "goal:{case_id}"  # the reminder ledger key of a case's goal reminder


def goal_key(case_id: int) -> str:
    return GOAL_KEY.format(case_id=case_id)


def engagement_tracks(profile: ProgramProfile) -> frozenset[str]:
    """The tracks that run engagements: those that say how many municipalities they expect."""
    return frozenset(t.id for t in profile.tracks if t.expected_municipalities is not None)


@dataclass(frozen=True)
class MatrixRow:
    """One engaged municipality (one case) in the municipality × stage matrix."""

    case_id: int
    case_no: str
    track_id: str
    municipality_code: str
    municipality_name: str
    stage: int | None
    # stage number → KPI met (True), not yet (False), not asked (None); only stages with a mark.
    marks: dict[int, bool | None] = field(default_factory=dict)


@dataclass(frozen=True)
class GoalGap:
    """An engagement case with no 取組目標 whose N-th held session has ended."""

    case_id: int
    case_no: str
    municipality_name: str
    held: int
    nth_ended_at: dt.datetime


def _in_matrix() -> ColumnElement[bool]:
    """The cases the matrix lists (see the module docstring)."""
    return or_(Case.id.in_(select(Engagement.case_id)), Case.stage.is_not(None))


async def carries_stages(s: AsyncSession, case: Case, track_ids: Collection[str]) -> bool:
    """Whether the follow-up of this case asks for its stage."""
    if case.status in ENDED_STATUSES:
        return False
    if case.track_id in track_ids:
        return True
    found = await s.scalar(select(Engagement.id).where(Engagement.case_id == case.id))
    return found is not None


async def record_stage(
    s: AsyncSession,
    case: Case,
    stage: int,
    kpi_met: bool | None,
    *,
    session_id: int | None,
    recorded_by: str,
    now: dt.datetime,
) -> None:
    """Set the case's current stage and upsert its mark for (case, stage).

    ``kpi_met`` None means 'not asked this time': an earlier answer for the stage is kept.
    One ``INSERT … ON CONFLICT (case_id, stage) DO UPDATE``, so two writers (the expert's
    follow-up and a staff correction at once) leave one row, never a unique-key error."""
    case.stage = stage
    case.updated_at = now
    await s.execute(delete(StageMark).where(StageMark.case_id == case.id, StageMark.stage > stage))
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(StageMark).values(
        case_id=case.id,
        stage=stage,
        kpi_met=kpi_met,
        session_id=session_id,
        recorded_by=recorded_by[:120],
        recorded_at=now,
    )
    kept = stmt.excluded.kpi_met if kpi_met is not None else StageMark.kpi_met
    await s.execute(
        stmt.on_conflict_do_update(
            index_elements=["case_id", "stage"],
            set_={
                "kpi_met": kept,
                "session_id": stmt.excluded.session_id,
                "recorded_by": stmt.excluded.recorded_by,
                "recorded_at": stmt.excluded.recorded_at,
            },
        )
    )


async def last_stage(s: AsyncSession, case_id: int) -> int | None:
    """The stage last recorded for a case (to pre-fill the follow-up's question)."""
    current = await s.scalar(select(Case.stage).where(Case.id == case_id))
    if current is not None:
        return int(current)
    latest = await s.scalar(
        select(StageMark.stage)
        .where(StageMark.case_id == case_id)
        .order_by(StageMark.recorded_at.desc(), StageMark.stage.desc())
        .limit(1)
    )
    return None if latest is None else int(latest)


async def marks_of(s: AsyncSession, case_id: int) -> dict[int, bool | None]:
    rows = await s.execute(
        select(StageMark.stage, StageMark.kpi_met).where(StageMark.case_id == case_id)
    )
    return {int(n): met for n, met in rows.all()}


async def matrix(
    s: AsyncSession, program_id: str, municipality_code: str | None = None
) -> list[MatrixRow]:
    """Every engaged case of a program (of one municipality, for an officer's deck) with its
    current stage and marks, by municipality."""
    one = () if municipality_code is None else (Case.municipality_code == municipality_code,)
    rows = (
        await s.execute(
            select(
                Case.id,
                Case.case_no,
                Case.track_id,
                Case.municipality_code,
                Municipality.name,
                Case.stage,
            )
            .join(Municipality, Municipality.code == Case.municipality_code)
            .where(
                Case.program_id == program_id,
                Case.status.not_in(ENDED_STATUSES),
                _in_matrix(),
                *one,
            )
            .order_by(Case.municipality_code, Case.id)
        )
    ).all()
    ids = [int(r[0]) for r in rows]
    marks: dict[int, dict[int, bool | None]] = {i: {} for i in ids}
    for start in range(0, len(ids), 1000):
        found = await s.execute(
            select(StageMark.case_id, StageMark.stage, StageMark.kpi_met).where(
                StageMark.case_id.in_(ids[start : start + 1000])
            )
        )
        for case_id, stage, met in found.all():
            marks[int(case_id)][int(stage)] = met
    return [
        MatrixRow(
            case_id=int(cid),
            case_no=no,
            track_id=track,
            municipality_code=code,
            municipality_name=name,
            stage=None if stage is None else int(stage),
            marks=marks[int(cid)],
        )
        for cid, no, track, code, name, stage in rows
    ]


async def goal_gaps(
    s: AsyncSession, program_id: str, by_session: int, now: dt.datetime
) -> list[GoalGap]:
    """Cases whose Engagement has no goal ('') and whose ``by_session``-th held session has
    ended by ``now``, unless their goal reminder is in the ledger already. Cancelled sessions
    do not count. A closed case is reminded too: its 支援計画書 and the 実績報告書 still need
    the goal (Kumamoto §2.5(1),(3)); a withdrawn one is not."""
    rows = (
        await s.execute(
            select(Case.id, Case.case_no, Municipality.name, SupportSession.ends_at)
            .join(Engagement, Engagement.case_id == Case.id)
            .join(Municipality, Municipality.code == Case.municipality_code)
            .join(SupportSession, SupportSession.case_id == Case.id)
            .where(
                Case.program_id == program_id,
                Case.status.not_in(ENDED_STATUSES),
                Engagement.goal == "",
                SupportSession.status != "cancelled",
                SupportSession.ends_at <= now,
            )
            .order_by(Case.id, SupportSession.ends_at)
        )
    ).all()
    ends: dict[int, list[dt.datetime]] = {}
    head: dict[int, tuple[str, str]] = {}
    for cid, no, name, ended in rows:
        ends.setdefault(int(cid), []).append(ended)
        head[int(cid)] = (no, name)
    due = [cid for cid, e in ends.items() if len(e) >= by_session]
    sent = set(await _sent_goal_keys(s, due))
    return [
        GoalGap(cid, head[cid][0], head[cid][1], len(ends[cid]), ends[cid][by_session - 1])
        for cid in due
        if goal_key(cid) not in sent
    ]


async def _sent_goal_keys(s: AsyncSession, case_ids: Sequence[int]) -> list[str]:
    keys = [goal_key(c) for c in case_ids]
    out: list[str] = []
    for start in range(0, len(keys), 1000):
        out += (
            await s.scalars(
                select(ReminderLedger.key).where(ReminderLedger.key.in_(keys[start : start + 1000]))
            )
        ).all()
    return out


async def engagement_goal(s: AsyncSession, case_id: int) -> str | None:
    """The case's recorded 取組目標 ('' when the engagement has none; None without one)."""
    goal = await s.scalar(select(Engagement.goal).where(Engagement.case_id == case_id))
    return None if goal is None else str(goal)
