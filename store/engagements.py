"""Engagements: one municipality's long-running support in one track, recorded on its case
(Yamagata §3(1)③ テーマ・目標・範囲・成果物, Kumamoto §2.5(1) 支援計画書, Saitama §6(4)ア
実施プラン). The only SQL for them.

The case is the source of truth for where an engagement belongs: its track and municipality are
read from the case row (``Case.track_id`` may change with `/dx track`), and the engagement's own
columns are kept in step on every save. An engagement whose case was withdrawn (取下げ) serves
nobody, so it counts nowhere. Which municipalities a track serves is store/rules.py's reading of
the profile's include/exclude lists, the same one matching and scheduling apply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select

from store import rules
from store.db import Session
from store.models import Case, Engagement, Municipality
from store.profiles import ProgramProfile, Track

# The fields staff record; everything else on the row is bookkeeping.
FIELDS = ("theme", "goal", "scope", "deliverables", "planned_sessions", "start_on")
WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class EngagementRow:
    """An engagement with what lists show of its case (plain values, nothing lazy)."""

    case_id: int
    case_no: str
    case_status: str
    track_id: str
    municipality_code: str
    municipality_name: str
    theme: str
    goal: str
    scope: str
    deliverables: str
    planned_sessions: int | None
    start_on: dt.date | None
    goal_set_at: dt.datetime | None
    stage: int | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class TrackEngagements:
    """One engagement track: how many municipalities it expects, which are engaged, and which
    of those it serves have no engagement yet (names in 団体コード order)."""

    track_id: str
    track_name: str
    expected: int
    engaged: tuple[EngagementRow, ...]
    not_served: tuple[tuple[str, str], ...]  # (code, name)

    @property
    def without_goal(self) -> tuple[EngagementRow, ...]:
        return tuple(e for e in self.engaged if not e.goal)


def engagement_tracks(profile: ProgramProfile) -> list[Track]:
    """The tracks that run engagements: those whose profile says how many they expect."""
    return [t for t in profile.tracks if t.expected_municipalities is not None]


async def get_by_case(s: Session, case_id: int) -> Engagement | None:
    return await s.scalar(select(Engagement).where(Engagement.case_id == case_id))


async def other_case_engaged(
    s: Session, program_id: str, track_id: str, municipality_code: str, case_id: int
) -> str | None:
    """The case number of another live engagement of this municipality in this track, if any:
    a municipality is engaged once per track."""
    q = (
        select(Case.case_no)
        .join(Engagement, Engagement.case_id == Case.id)
        .where(
            Case.program_id == program_id,
            Case.track_id == track_id,
            Case.municipality_code == municipality_code,
            Case.status != WITHDRAWN,
            Case.id != case_id,
        )
        .order_by(Case.id)
        .limit(1)
    )
    found: str | None = await s.scalar(q)
    return found


async def save(
    s: Session,
    case: Case,
    changes: Mapping[str, Any],
    *,
    now: dt.datetime,
    actor: str,
    is_demo: bool = False,
) -> tuple[Engagement, bool]:
    """Create the case's engagement or update the fields given (any subset of ``FIELDS``);
    returns it and whether it was new. The goal's date (``goal_set_at``) is stamped when a goal
    is first recorded, kept while it is reworded, and cleared with it."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"not engagement fields: {sorted(unknown)}")
    row = await get_by_case(s, case.id)
    created = row is None
    if row is None:
        row = Engagement(
            case_id=case.id,
            program_id=case.program_id,
            track_id=case.track_id,
            municipality_code=case.municipality_code,
            theme="",
            goal="",
            scope="",
            deliverables="",
            created_by=actor,
            created_at=now,
            updated_at=now,
            is_demo=is_demo,
        )
        s.add(row)
    had_goal = bool(row.goal)
    for name, value in changes.items():
        setattr(row, name, value)
    if "goal" in changes:
        if not row.goal:
            row.goal_set_at = None
        elif not had_goal:
            row.goal_set_at = now
    row.track_id, row.municipality_code = case.track_id, case.municipality_code
    row.updated_at = now
    await s.flush()
    return row, created


_ROW_COLUMNS = (
    Case.id,
    Case.case_no,
    Case.status,
    Case.track_id,
    Case.municipality_code,
    Municipality.name,
    Engagement.theme,
    Engagement.goal,
    Engagement.scope,
    Engagement.deliverables,
    Engagement.planned_sessions,
    Engagement.start_on,
    Engagement.goal_set_at,
    Case.stage,
    Engagement.updated_at,
)


def _row(r: Any) -> EngagementRow:
    return EngagementRow(*r)


async def rows(
    s: Session,
    program_id: str,
    *,
    case_id: int | None = None,
    municipality_code: str | None = None,
    include_withdrawn: bool = False,
) -> list[EngagementRow]:
    """The program's engagements with their municipalities' names, by track then 団体コード;
    one case's (``case_id``) or one municipality's (``municipality_code``) when asked."""
    q = (
        select(*_ROW_COLUMNS)
        .join(Engagement, Engagement.case_id == Case.id)
        .join(Municipality, Municipality.code == Case.municipality_code)
        .where(Case.program_id == program_id)
        .order_by(Case.track_id, Case.municipality_code, Case.id)
    )
    if case_id is not None:
        q = q.where(Case.id == case_id)
    if municipality_code is not None:
        q = q.where(Case.municipality_code == municipality_code)
    if not include_withdrawn:
        q = q.where(Case.status != WITHDRAWN)
    return [_row(r) for r in (await s.execute(q)).all()]


def track_engagements_of(
    profile: ProgramProfile,
    engaged: list[EngagementRow],
    municipalities: list[tuple[str, str]],
) -> list[TrackEngagements]:
    """Pure: each engagement track's engaged municipalities (one row each, the first case) and
    the municipalities it serves (include/exclude, store/rules.py) that have none."""
    out = []
    for track in engagement_tracks(profile):
        mine: dict[str, EngagementRow] = {}
        for e in engaged:
            if e.track_id == track.id:
                mine.setdefault(e.municipality_code, e)
        served = [
            (code, name)
            for code, name in municipalities
            if rules.municipality_refusal(track, [code], {}) is None
        ]
        out.append(
            TrackEngagements(
                track_id=track.id,
                track_name=track.name,
                expected=track.expected_municipalities or 0,
                engaged=tuple(mine[c] for c in sorted(mine)),
                not_served=tuple((c, n) for c, n in served if c not in mine),
            )
        )
    return out


async def track_engagements(
    s: Session, profile: ProgramProfile, municipality_code: str | None = None
) -> list[TrackEngagements]:
    """Engaged vs expected per engagement track, in one statement: the prefecture's
    municipalities, each joined to its engagements (cases not withdrawn) if any. With
    ``municipality_code`` (an officer's view) only that municipality is considered."""
    if not engagement_tracks(profile):
        return []
    engaged_case = and_(
        Case.municipality_code == Municipality.code,
        Case.program_id == profile.id,
        Case.status != WITHDRAWN,
        Case.id.in_(select(Engagement.case_id).where(Engagement.program_id == profile.id)),
    )
    q = (
        select(Municipality.code, Municipality.name, *_ROW_COLUMNS)
        .select_from(Municipality)
        .outerjoin(Case, engaged_case)
        .outerjoin(Engagement, Engagement.case_id == Case.id)
        .where(Municipality.prefecture_code == profile.prefecture_code)
        .order_by(Municipality.code, Case.track_id, Case.id)
    )
    if municipality_code is not None:
        q = q.where(Municipality.code == municipality_code)
    munis: dict[str, str] = {}
    engaged = []
    for r in (await s.execute(q)).all():
        munis.setdefault(r[0], r[1])
        if r[2] is not None:
            engaged.append(_row(r[2:]))
    return track_engagements_of(profile, engaged, list(munis.items()))


async def has_demo(s: Session, program_id: str) -> bool:
    """Whether the program's demo engagements were made already (demo seeding is idempotent)."""
    q = select(Engagement.id).where(
        Engagement.program_id == program_id, Engagement.is_demo.is_(True)
    )
    return await s.scalar(q.limit(1)) is not None


async def demo_cases(s: Session, program_id: str, track_id: str) -> list[Case]:
    """The program's demo cases of a track that were not withdrawn, oldest first: where the
    demo records its engagements."""
    q = (
        select(Case)
        .where(
            Case.program_id == program_id,
            Case.track_id == track_id,
            Case.is_demo.is_(True),
            Case.status != WITHDRAWN,
        )
        .order_by(Case.id)
    )
    return list((await s.scalars(q)).all())
