"""`/status` and `dxbot status`: every figure of each view is checked against numbers this test
computes itself from the rows it created (on SQLite and PostgreSQL), and each role sees only
what it may.

The world: Saitama FY2026 at Monday 2026-11-16 10:00 JST, with on-time, late, pending, due-today,
overdue, planned, cancelled and joint sessions, a municipality at its dispatch cap and one a
session short of it, answered and unanswered surveys, and cases without sessions.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.demo import add_people
from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from reports import render_status, status
from store import cases, reporting, sessions
from store.db import Database
from store.models import (
    Case,
    Municipality,
    SessionExpert,
    SessionMunicipality,
    StatusChange,
    SupportSession,
    Survey,
    User,
)
from store.profiles import load_profile
from store.seed import seed_program
from tests.conftest import DEFAULT_NOW, ChatBot

NOW = DEFAULT_NOW  # Monday 2026-11-16 10:00 JST
TODAY = NOW.date()
PROFILE = load_profile("saitama-2026")
CAL = BusinessCalendar(PROFILE.closed_days)
SAITAMA, KAWAGOE, KUMAGAYA, KAWAGUCHI, TOKOROZAWA, CHICHIBU = (
    "111007",
    "112011",
    "112020",
    "112038",
    "112089",
    "112071",
)


@dataclass
class SessionSpec:
    day: dt.date
    hour: int
    hours: float
    method: str
    experts: tuple[str, ...]
    extra_munis: tuple[str, ...] = ()
    cancelled: bool = False
    report_after: int | None = None  # 開庁日 after the session when the report came in
    survey: tuple[int, str] | None = None
    survey_requested: bool = False
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def starts(self) -> dt.datetime:
        return dt.datetime.combine(self.day, dt.time(self.hour), tzinfo=JST)

    @property
    def ends(self) -> dt.datetime:
        return self.starts + dt.timedelta(hours=self.hours)

    @property
    def due(self) -> dt.date:
        return CAL.add_open_days(self.day, 5)

    @property
    def submitted(self) -> dt.datetime | None:
        if self.report_after is None:
            return None
        day = CAL.add_open_days(self.day, self.report_after)
        return dt.datetime.combine(day, dt.time(16), tzinfo=JST)


@dataclass
class CaseSpec:
    track: str
    muni: str
    status: str
    sessions: list[SessionSpec] = field(default_factory=list)
    domains: tuple[str, ...] = ("自治体のAIの利用促進",)
    description: str = "生成AIの庁内利用ガイドラインを作りたい"
    requester: str = "相談 太郎"


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def world_specs() -> list[CaseSpec]:
    effect = {"effect": "課題が整理され、導入スケジュール案ができた", "issues": "庁内の合意形成"}
    return [
        CaseSpec(
            "soudan",
            SAITAMA,
            "closed",
            [
                SessionSpec(
                    d(6, 1),
                    14,
                    1,
                    "online",
                    ("expert1",),
                    report_after=2,
                    survey=(5, "resolved"),
                    report=effect,
                )
            ],
            requester="山田 花子",
        ),
        CaseSpec(
            "soudan", KAWAGUCHI, "held", [SessionSpec(d(11, 9), 10, 1, "online", ("expert2",))]
        ),
        CaseSpec(
            "haken",
            KAWAGOE,
            "held",
            [
                SessionSpec(d(7, 6), 13, 3, "onsite", ("expert3",), report_after=1),
                SessionSpec(
                    d(9, 7), 13, 3, "onsite", ("expert3",), report_after=3, survey=(4, "resolved")
                ),
                SessionSpec(d(11, 2), 13, 3, "onsite", ("expert3",)),  # overdue
                SessionSpec(d(11, 12), 13, 3, "onsite", ("expert3",)),  # due soon
            ],
            domains=("BPRの取組の徹底", "自治体フロントヤード改革"),
            description="窓口業務のBPRを進めたい",
        ),
        CaseSpec(
            "haken",
            KUMAGAYA,
            "scheduled",
            [
                SessionSpec(
                    d(10, 5),
                    13,
                    3,
                    "onsite",
                    ("expert4", "expert5"),
                    (KAWAGOE, SAITAMA),
                    report_after=6,
                    survey=(3, "partly"),
                    report={"effect": "広域での共同調達の方針が固まった"},
                ),
                SessionSpec(
                    d(7, 13), 10, 3, "onsite", ("expert6",), report_after=2, survey=(2, "not_yet")
                ),
                SessionSpec(d(7, 21), 10, 3, "online", ("expert6",), report_after=5),
                SessionSpec(d(11, 18), 13, 3, "onsite", ("expert6",)),  # planned, this week
            ],
            domains=("情報システムの標準化・共通化",),
        ),
        CaseSpec(
            "haken",
            KAWAGUCHI,
            "coordinating",
            [SessionSpec(d(10, 20), 13, 3, "onsite", ("expert2",), cancelled=True)],
        ),
        CaseSpec(
            "bansou",
            SAITAMA,
            "scheduled",
            [
                SessionSpec(d(10, 1), 10, 2, "onsite", ("expert1",), report_after=4),
                SessionSpec(d(11, 17), 10, 2, "onsite", ("expert1",)),  # planned, this week
                SessionSpec(d(12, 1), 10, 2, "onsite", ("expert1",)),  # planned, later
            ],
            domains=("方針・計画の策定",),
        ),
        CaseSpec(
            "bansou",
            TOKOROZAWA,
            "reported",
            [
                SessionSpec(
                    d(10, 1), 14, 2, "online", ("expert7",), report_after=5, survey_requested=True
                )
            ],
        ),
        CaseSpec(
            "hearing",
            KAWAGUCHI,
            "reported",
            [SessionSpec(d(7, 1), 10, 2, "online", ("expert8",), report_after=3)],
        ),
        CaseSpec("soudan", CHICHIBU, "received"),
        CaseSpec("soudan", KAWAGOE, "coordinating"),
        CaseSpec("soudan", TOKOROZAWA, "withdrawn"),
        CaseSpec("haken", SAITAMA, "on_hold"),
    ]


@dataclass
class World:
    specs: list[CaseSpec]
    people: dict[str, int]
    case_nos: list[str]
    names: dict[str, str]  # platform id -> name
    opened: list[dt.datetime]

    def all_sessions(self) -> list[tuple[CaseSpec, SessionSpec]]:
        return [(c, s) for c in self.specs for s in c.sessions]

    def live(self) -> list[tuple[CaseSpec, SessionSpec]]:
        return [(c, s) for c, s in self.all_sessions() if not s.cancelled]


async def build_world(s: AsyncSession, now: dt.datetime = NOW) -> World:
    """Seed Saitama with the demo people and the world's cases, sessions, reports and surveys."""
    await seed_program(s, PROFILE, now)
    munis = list(
        (
            await s.scalars(
                select(Municipality)
                .where(Municipality.prefecture_code == "11")
                .order_by(Municipality.code)
            )
        ).all()
    )
    people = await add_people(s, munis, now)
    names = {u.platform_id: u.name for u in (await s.scalars(select(User))).all()}
    specs = world_specs()
    case_nos, opened_at = [], []
    for i, c in enumerate(specs):
        opened = dt.datetime.combine(d(5, 1) + dt.timedelta(days=i), dt.time(9), tzinfo=JST)
        opened_at.append(opened)
        case = await cases.create(
            s,
            program_id=PROFILE.id,
            prefix=PROFILE.case_prefix,
            year=2026,
            track_id=c.track,
            municipality_code=c.muni,
            now=opened,
            requester_user_id=people["officer1"] if c.muni == SAITAMA else None,
            department="デジタル推進課",
            requester_name=c.requester,
            requester_title="主査",
            domains=c.domains,
            description=c.description,
        )
        case_nos.append(case.case_no)
        for sp in c.sessions:
            await _add_session(s, case.id, c, sp, people, opened)
        if c.status != "received":
            await cases.set_status(
                s,
                case,
                c.status,
                now=opened + dt.timedelta(hours=1),
                actor_user_id=people["staff1"],
                actor_label="事務局",
            )
    await s.flush()
    return World(specs, people, case_nos, names, opened_at)


async def _add_session(
    s: AsyncSession,
    case_id: int,
    c: CaseSpec,
    sp: SessionSpec,
    people: dict[str, int],
    opened: dt.datetime,
) -> None:
    row = await sessions.create(
        s,
        program_id=PROFILE.id,
        case_id=case_id,
        track_id=c.track,
        starts_at=sp.starts,
        hours=sp.hours,
        method=sp.method,
        place="庁舎会議室" if sp.method == "onsite" else "オンライン",
        report_due=sp.due,
        municipality_codes=[c.muni, *sp.extra_munis],
        expert_user_ids=[people[e] for e in sp.experts],
        now=opened,
        status="cancelled" if sp.cancelled else ("done" if sp.ends <= NOW else "scheduled"),
    )
    if sp.submitted is not None:
        fields = {"summary": c.description, "response": "進め方を助言した", **sp.report}
        await sessions.add_report(
            s, row, fields, author_user_id=people[sp.experts[0]], now=sp.submitted
        )
    if sp.survey is not None or sp.survey_requested:
        sat, res = sp.survey if sp.survey else (None, None)
        assert sp.submitted is not None
        await sessions.add_survey(
            s,
            row.id,
            respondent_user_id=None,
            satisfaction=sat,
            resolved=res,
            comment="",
            requested_at=sp.submitted,
            answered_at=sp.submitted + dt.timedelta(days=1) if sp.survey else None,
        )


# --- expected figures, computed here from the specs ------------------------------------------------


def expected_tracks(w: World, now: dt.datetime = NOW) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {
        t.id: {"held": 0, "planned": 0, "hours": 0.0, "onsite": 0} for t in PROFILE.tracks
    }
    for c, s in w.live():
        e = out[c.track]
        if s.ends <= now:
            e["held"] += 1
            e["hours"] += s.hours
            e["onsite"] += s.method == "onsite"
        else:
            e["planned"] += 1
    return out


def expected_pending(
    w: World, scope_expert: str | None = None
) -> tuple[list[SessionSpec], list[SessionSpec]]:
    soon_until = CAL.add_open_days(TODAY, 3)
    overdue, soon = [], []
    for _, s in w.live():
        if scope_expert and scope_expert not in s.experts:
            continue
        if s.ends > NOW or s.submitted is not None:
            continue
        if s.due < TODAY:
            overdue.append(s)
        elif s.due <= soon_until or scope_expert:
            soon.append(s)
    return overdue, soon


def expected_muni_counts(w: World, track: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for c, s in w.live():
        if c.track == track:
            counts.update([c.muni, *s.extra_munis])
    return counts


def expected_expert_counts(w: World) -> dict[str, int]:
    counts = dict.fromkeys((f"expert{i}" for i in range(1, 9)), 0)
    for _, s in w.live():
        for e in s.experts:
            counts[e] += 1
    return counts


def term_open_days() -> tuple[int, int, int]:
    days = CAL.open_days_between(PROFILE.term_start, PROFILE.term_end)
    elapsed = len([x for x in days if x < TODAY])
    remaining = len([x for x in days if x >= TODAY])
    return len(days), elapsed, remaining


# --- the program view -----------------------------------------------------------------------------


async def test_program_view_matches_the_rows(db: Database) -> None:
    async with db.transaction() as s:
        w = await build_world(s)
    async with db.transaction() as s:
        v = await status.program_status(s, PROFILE, CAL, NOW)

    total, elapsed, remaining = term_open_days()
    assert (v.clock.total, v.clock.elapsed, v.clock.remaining) == (total, elapsed, remaining)
    exp = expected_tracks(w)
    got = {tp.track_id: tp for tp in v.tracks}
    assert set(got) == {t.id for t in PROFILE.tracks}
    for track in PROFILE.tracks:
        e, tp = exp[track.id], got[track.id]
        assert (tp.held, tp.planned, tp.onsite_held) == (e["held"], e["planned"], e["onsite"]), (
            track.id
        )
        assert tp.hours_held == pytest.approx(e["hours"])
        goal = track.target if track.target is not None else track.minimum
        assert tp.goal == goal
        assert tp.remaining == max(goal - e["held"], 0)
        assert tp.pace_needed == pytest.approx((goal - e["held"]) / remaining)
        expected_now = goal * elapsed / total
        assert tp.state == ("behind" if e["held"] < math.floor(expected_now) else "on_track")

    statuses = Counter(c.status for c in w.specs)
    assert v.cases_by_status == dict(statuses)

    overdue, soon = expected_pending(w)
    assert (v.pending.overdue, v.pending.due_soon) == (len(overdue), len(soon))
    assert [r.report_due for r in v.pending.rows] == sorted(s.due for s in overdue + soon)

    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    week = [s for _, s in w.live() if monday <= s.day < monday + dt.timedelta(days=7)]
    assert v.week_sessions == len(week)
    assert [r.starts_at for r in v.week_rows] == sorted(s.starts for s in week)

    haken = expected_muni_counts(w, "haken")
    caps = {cw.track_id: cw for cw in v.caps}
    cap = PROFILE.track("haken").per_municipality_cap
    assert sorted(n for _, n in caps["haken"].at_cap) == sorted(
        n for n in haken.values() if n >= cap
    )
    assert sorted(n for _, n in caps["haken"].near_cap) == sorted(
        n for n in haken.values() if n == cap - 1
    )
    assert caps["haken"].at_cap == [("川越市", 5)]
    assert caps["haken"].near_cap == [("熊谷市", 4)]
    assert caps["hearing"].at_cap == [("川口市", 1)]
    assert v.municipalities_covered == len(
        {m for c, s in w.live() for m in (c.muni, *s.extra_munis)}
    )

    counts = list(expected_expert_counts(w).values())
    assert sorted(e.sessions for e in v.experts.experts) == sorted(counts)
    assert (v.experts.minimum, v.experts.maximum) == (min(counts), max(counts))
    assert v.experts.stdev == pytest.approx(statistics.pstdev(counts))
    assert v.experts.mean == pytest.approx(statistics.fmean(counts))

    answered = [s.survey for _, s in w.all_sessions() if s.survey]
    assert v.survey.answered == len(answered)
    assert v.survey.average == pytest.approx(statistics.fmean(a[0] for a in answered))
    assert v.survey.by_resolved == dict(Counter(a[1] for a in answered))
    assert v.survey.requested_unanswered == len(
        [1 for _, s in w.all_sessions() if s.survey_requested]
    )


async def test_staff_text_is_short_and_worst_first(db: Database) -> None:
    async with db.transaction() as s:
        w = await build_world(s)
    async with db.transaction() as s:
        v = await status.program_status(s, PROFILE, CAL, NOW)
    text = render_status.render(v, CAL)
    overdue, soon = expected_pending(w)
    lines = text.splitlines()
    assert len(lines) <= 40
    assert f"報告期限超過 {len(overdue)}件" in text
    assert f"3開庁日以内に報告期限 {len(soon)}件" in text
    # The overdue report (川越市, 4 開庁日 late, held by 渡辺 拓也) is named, before any track.
    late = CAL.open_days_until(CAL.add_open_days(d(11, 2), 5), TODAY)
    overdue_line = next(i for i, ln in enumerate(lines) if f"【{late}開庁日超過】" in ln)
    assert "川越市" in lines[overdue_line] and w.names["expert3"] in lines[overdue_line]
    assert overdue_line < next(i for i, ln in enumerate(lines) if "■ 実績" in ln)
    # Tracks: behind ones before the others.
    track_lines = [ln for ln in lines if ln.startswith("・【")]
    states = ["遅れ" if "【遅れ】" in ln else "other" for ln in track_lines]
    assert states == sorted(states, key=lambda x: x != "遅れ")
    assert "川越市(5)" in text and "熊谷市(4)" in text
    assert "【本日期限】" in text  # 川口市's consultation of 11/9 is due today


# --- officers and experts -------------------------------------------------------------------------


async def test_officer_sees_only_their_municipality(db: Database) -> None:
    async with db.transaction() as s:
        w = await build_world(s)
    async with db.transaction() as s:
        v = await status.officer_status(s, PROFILE, NOW, SAITAMA, "さいたま市")
    mine = [
        c for c in w.specs if c.muni == SAITAMA or any(SAITAMA in s.extra_munis for s in c.sessions)
    ]
    assert v.cases_by_status == dict(Counter(c.status for c in mine))
    assert sorted(c.case_no for c in v.open_cases) == sorted(
        w.case_nos[i]
        for i, c in enumerate(w.specs)
        if c in mine and c.status not in ("closed", "withdrawn")
    )
    upcoming = sorted(
        s.starts for c, s in w.live() if s.starts >= NOW and SAITAMA in (c.muni, *s.extra_munis)
    )
    assert [r.starts_at for r in v.upcoming] == upcoming
    haken_used = expected_muni_counts(w, "haken")[SAITAMA]
    assert ("デジタル専門人材の派遣によるアドバイス支援", haken_used, 5) in v.caps
    answered = [
        s.survey for c, s in w.all_sessions() if s.survey and SAITAMA in (c.muni, *s.extra_munis)
    ]
    assert v.survey.answered == len(answered)
    text = render_status.render(v, CAL)
    assert "川越市" not in text.replace("さいたま市", "")  # no other municipality's case shows


async def test_expert_sees_their_assignments_and_pending_reports(db: Database) -> None:
    async with db.transaction() as s:
        w = await build_world(s)
    async with db.transaction() as s:
        v = await status.expert_status(s, PROFILE, CAL, NOW, w.people["expert3"], "渡辺 拓也")
    overdue, pending = expected_pending(w, "expert3")
    assert (v.pending.overdue, v.pending.due_soon) == (len(overdue), len(pending))
    held = [s for _, s in w.live() if "expert3" in s.experts and s.ends <= NOW]
    assert v.held == len(held)
    assert v.hours_held == pytest.approx(sum(s.hours for s in held))
    text = render_status.render(v, CAL)
    assert f"未提出の報告 {len(overdue) + len(pending)}件（うち期限超過{len(overdue)}件）" in text
    assert "熊谷市" not in text  # expert6's and expert4's municipality


# --- through the chat -------------------------------------------------------------------------------


async def _world_in(bot: ChatBot) -> World:
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        return await build_world(s)


async def test_status_command_per_role(bot: ChatBot) -> None:
    w = await _world_in(bot)
    staff = (await bot.say("staff1", "/status"))[0].text
    assert staff.startswith("【進捗】")
    pref = (await bot.say("pref1", "/status"))[0].text
    assert pref.startswith("【進捗】")
    officer = (await bot.say("officer1", "/status"))[0].text
    assert officer.startswith("【さいたま市の相談状況】")
    assert w.case_nos[2] not in officer  # 川越市's case
    expert = (await bot.say("expert1", "/status"))[0].text
    assert expert.startswith(f"【{w.names['expert1']}さんの担当】")


async def test_one_case_with_history_scoped_by_role(bot: ChatBot) -> None:
    w = await _world_in(bot)
    case_no = w.case_nos[0]  # さいたま市, closed, requester 山田 花子
    staff = (await bot.say("staff1", f"/status {case_no}"))[0].text
    assert staff.startswith(f"【{case_no}】さいたま市")
    assert "山田 花子" in staff  # the desk sees the requester
    assert "受付→完了" in staff and "（新規）→受付" in staff  # the history, in order
    assert "報告済（2026年6月3日(水)）" in staff
    officer = (await bot.say("officer1", f"/status {case_no.lower()}"))[0].text
    assert officer.startswith(f"【{case_no}】") and "山田 花子" not in officer
    other = (await bot.say("officer2", f"/status {case_no}"))[0].text  # 秩父市
    assert "見つかりませんでした" in other
    expert = (await bot.say("expert3", f"/status {case_no}"))[0].text  # not on this case
    assert "見つかりませんでした" in expert
    joint = w.case_nos[3]  # 熊谷市's case with a joint session that さいたま市 joined
    assert (await bot.say("officer1", f"/status {joint}"))[0].text.startswith(f"【{joint}】熊谷市")
    assert "見つかりませんでした" in (await bot.say("staff1", "/status SAI-2026-9999"))[0].text


# --- no N+1: the statement count does not grow with the data ----------------------------------------


async def _statements(db: Database, now: dt.datetime) -> int:
    seen: list[str] = []

    def count(*_a: Any) -> None:
        seen.append("x")

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.transaction() as s:
            v = await status.program_status(s, PROFILE, CAL, now)
            render_status.render(v, CAL)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    return len(seen)


async def test_statement_count_does_not_grow_with_rows(db: Database) -> None:
    async with db.transaction() as s:
        w = await build_world(s)
    before = await _statements(db, NOW)
    async with db.transaction() as s:  # three times the sessions, same shape
        for _ in range(2):
            for c in w.specs:
                case = await cases.create(
                    s,
                    program_id=PROFILE.id,
                    prefix="SAI",
                    year=2026,
                    track_id=c.track,
                    municipality_code=c.muni,
                    now=NOW - dt.timedelta(days=200),
                )
                for sp in c.sessions:
                    await _add_session(s, case.id, c, sp, w.people, NOW - dt.timedelta(days=200))
    assert await _statements(db, NOW) == before
    assert before <= 10


# --- the tallies kept by triggers ---------------------------------------------------------------


async def test_tallies_follow_every_kind_of_change(db: Database) -> None:
    """After inserts, updates (ORM and plain SQL) and deletes of sessions, their municipalities
    and experts, and surveys, the trigger-kept tallies equal a recount from the rows."""
    async with db.transaction() as s:
        w = await build_world(s)
    async with db.transaction() as s:
        assert await reporting.tally_rows(s) != (set(), set())
        rows = list((await s.scalars(select(SupportSession).order_by(SupportSession.id))).all())
        was_cancelled = next(r for r in rows if r.status == "cancelled")
        joint = next(r for r in rows if r.starts_at == w.specs[3].sessions[0].starts)
        gone = next(r for r in rows if r.starts_at == w.specs[3].sessions[1].starts)
        rows[0].status = "cancelled"  # an ORM update
        await s.execute(  # plain SQL: un-cancel, and change hours, method and track at once
            update(SupportSession)
            .where(SupportSession.id == was_cancelled.id)
            .values(status="scheduled", hours=2.5, method="online", track_id="bansou")
        )
        rows[2].hours = 1.5
        s.add(SessionMunicipality(session_id=rows[3].id, municipality_code=CHICHIBU))
        s.add(SessionExpert(session_id=rows[3].id, user_id=w.people["expert8"]))
        await s.execute(
            delete(SessionMunicipality).where(
                SessionMunicipality.session_id == joint.id,
                SessionMunicipality.municipality_code == SAITAMA,
            )
        )
        await s.execute(delete(SessionExpert).where(SessionExpert.session_id == rows[5].id))
        await s.execute(
            update(Survey)
            .where(Survey.session_id == rows[3].id)
            .values(satisfaction=1, resolved="not_yet")
        )
        await s.execute(delete(Survey).where(Survey.session_id == rows[0].id))
        await s.execute(delete(SupportSession).where(SupportSession.id == gone.id))  # cascades
        rows[1].starts_at += dt.timedelta(days=1)  # moved to another day
        rows[1].ends_at += dt.timedelta(days=1)
        first_case = await s.scalar(select(Case).where(Case.case_no == w.case_nos[0]))
        assert first_case is not None
        await cases.set_status(
            s, first_case, "on_hold", now=NOW, actor_user_id=None, actor_label=""
        )
        first_case.track_id = "haken"
        await s.execute(
            update(Case).where(Case.case_no == w.case_nos[1]).values(status="withdrawn")
        )
        extra = await cases.create(
            s, program_id=PROFILE.id, prefix="SAI", year=2026, track_id="soudan",
            municipality_code=CHICHIBU, now=NOW,
        )  # fmt: skip
        await s.execute(delete(StatusChange).where(StatusChange.case_id == extra.id))
        await s.execute(delete(Case).where(Case.id == extra.id))
        await s.flush()
    async with db.transaction() as s:
        kept = await reporting.tally_rows(s)
        await reporting.rebuild_tallies(s)
    async with db.transaction() as s:
        recounted = await reporting.tally_rows(s)
    assert kept == recounted
    async with db.transaction() as s:  # and the view reads them right after the changes
        v = await status.program_status(s, PROFILE, CAL, NOW)
        direct = await reporting.track_counts(s, PROFILE.id, NOW)
    live = len(w.live()) + 1 - 1 - 1  # one un-cancelled, one cancelled, one deleted
    assert sum(tp.held + tp.planned for tp in v.tracks) == live
    assert direct == {t.track_id: t for t in (await _tallied_tracks(db)).values()}


async def _tallied_tracks(db: Database) -> dict[str, reporting.TrackCount]:
    async with db.transaction() as s:
        monday = TODAY - dt.timedelta(days=TODAY.weekday())
        return (await reporting.program_tallies(s, PROFILE.id, NOW, monday, monday)).tracks


async def test_tallies_and_direct_aggregates_agree_at_any_hour(db: Database) -> None:
    """Held/planned from the tallies ('ends' days before today + today's ended sessions) equal a
    direct count at times around a session's end, midnight JST included."""
    async with db.transaction() as s:
        await build_world(s)
    for at in (
        NOW,
        dt.datetime(2026, 11, 17, 0, 0, tzinfo=JST),  # midnight: 11/16's sessions move to 'ends'
        dt.datetime(2026, 11, 17, 11, 59, tzinfo=JST),  # the 11/17 10:00-12:00 session running
        dt.datetime(2026, 11, 17, 12, 0, tzinfo=JST),  # ... and just ended
        dt.datetime(2027, 4, 1, 9, 0, tzinfo=JST),  # after the term
    ):
        async with db.transaction() as s:
            direct = await reporting.track_counts(s, PROFILE.id, at)
            tallied = (await reporting.program_tallies(s, PROFILE.id, at, TODAY, TODAY)).tracks
        assert tallied == direct, at


# --- the command line ---------------------------------------------------------------------------------

DXBOT = str(Path(sys.executable).with_name("dxbot"))


def run_cli(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "LOGO_", "OPENAI_", "DXBOT_"))
    }
    env["DATABASE_URL"] = url
    return subprocess.run([DXBOT, *args], cwd=cwd, env=env, capture_output=True, timeout=120)


async def test_cli_status_views(db: Database, db_url: str, tmp_path: Path) -> None:
    async with db.transaction() as s:
        w = await build_world(s)
    now = ("--now", NOW.isoformat())
    staff = run_cli(db_url, "status", *now, cwd=tmp_path)
    assert staff.returncode == 0, staff.stderr.decode()
    text = staff.stdout.decode()
    async with db.transaction() as s:
        v = await status.program_status(s, PROFILE, CAL, NOW)
    assert text.strip() == render_status.render(v, CAL).strip()
    officer = run_cli(db_url, "status", "--as", "officer1", *now, cwd=tmp_path)
    assert officer.stdout.decode().startswith("【さいたま市の相談状況】")
    one = run_cli(db_url, "status", "--case", w.case_nos[0], *now, cwd=tmp_path)
    assert one.returncode == 0 and one.stdout.decode().startswith(f"【{w.case_nos[0]}】")
    hidden = run_cli(db_url, "status", "--as", "officer2", "--case", w.case_nos[0], cwd=tmp_path)
    assert hidden.returncode == 2
    assert hidden.stderr.decode().strip() == (
        f"error: Case {w.case_nos[0]} does not exist or is not visible to this user."
    )
    nobody = run_cli(db_url, "status", "--as", "nobody", cwd=tmp_path)
    assert nobody.returncode == 2 and b"No registered user 'nobody'" in nobody.stderr


async def test_cli_status_on_an_unseeded_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    assert run_cli(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    out = run_cli(url, "status", "--program", "kumamoto-2026", cwd=tmp_path)
    assert out.returncode == 2
    assert b"dxbot seed --program kumamoto-2026" in out.stderr
    assert b"Traceback" not in out.stderr


async def test_a_session_counts_once_for_its_track_and_once_per_municipality(db: Database) -> None:
    """Kumamoto §2.4: a joint session for several municipalities counts once toward the total."""
    async with db.transaction() as s:
        w = await build_world(s)
        joint = await s.scalar(
            select(SupportSession).where(SupportSession.starts_at == w.specs[3].sessions[0].starts)
        )
        assert joint is not None
    async with db.transaction() as s:
        v = await status.program_status(s, PROFILE, CAL, NOW)
    haken = next(tp for tp in v.tracks if tp.track_id == "haken")
    assert haken.held == len([1 for c, s in w.live() if c.track == "haken" and s.ends <= NOW])
    per_muni = expected_muni_counts(w, "haken")
    assert sum(per_muni.values()) == haken.held + haken.planned + 2  # the joint one, three times
