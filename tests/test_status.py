"""`/status` and `dxbot status`: every figure of each view is checked against a number worked
out by hand for the small world below (on SQLite and PostgreSQL), and each role sees only what
it may.

The world: Saitama FY2026 at Monday 2026-11-16 10:00 JST, with on-time, late, pending, due-today,
overdue, planned, cancelled and joint sessions, a municipality at its dispatch cap and one a
session short of it, answered and unanswered surveys, and cases without sessions. Report due
dates (5 開庁日 after the session) and report days are written out as dates; the holidays that
move them are noted where they do (7/20 海の日, 10/12 スポーツの日, 11/3 文化の日).

The same world, session by session (case numbers follow the order of ``world_specs``):

| case | track | municipality | session | hours | method | state on 11/16 |
|---|---|---|---|---|---|---|
| 0001 | soudan | さいたま市 | 6/1 | 1 | online | reported 6/3, survey 5 resolved |
| 0002 | soudan | 川口市 | 11/9 | 1 | online | report due today (11/16) |
| 0003 | haken | 川越市 | 7/6, 9/7 | 3+3 | onsite | reported; 9/7 survey 4 resolved |
|  |  |  | 11/2 | 3 | onsite | due 11/10: 4 開庁日 overdue |
|  |  |  | 11/12 | 3 | onsite | due 11/19 (within 3 開庁日) |
| 0004 | haken | 熊谷市 | 10/5 joint (+川越市, さいたま市) | 3 | onsite | reported, survey 3 partly |
|  |  |  | 7/13, 7/21 | 3+3 | onsite, online | reported; 7/13 survey 2 not_yet |
|  |  |  | 11/18 | 3 | onsite | planned |
| 0005 | haken | 川口市 | 10/20 | 3 | onsite | cancelled |
| 0006 | bansou | さいたま市 | 10/1 | 2 | onsite | reported |
|  |  |  | 11/17, 12/1 | 2+2 | onsite | planned |
| 0007 | bansou | 所沢市 | 10/1 | 2 | online | reported, survey asked, unanswered |
| 0008 | hearing | 川口市 | 7/1 | 2 | online | reported |
| 0009–0012 | soudan ×3, haken | 秩父市, 川越市, 所沢市, さいたま市 | — | | | no sessions |
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
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
    due: dt.date  # 5 開庁日 after ``day``, worked out by hand
    extra_munis: tuple[str, ...] = ()
    cancelled: bool = False
    reported_on: dt.date | None = None  # the report came in at 16:00 that day
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
    def submitted(self) -> dt.datetime | None:
        if self.reported_on is None:
            return None
        return dt.datetime.combine(self.reported_on, dt.time(16), tzinfo=JST)


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
                    d(6, 1), 14, 1, "online", ("expert1",), d(6, 8),
                    reported_on=d(6, 3), survey=(5, "resolved"), report=effect,
                )
            ],
            requester="山田 花子",
        ),
        CaseSpec(
            "soudan", KAWAGUCHI, "held",
            [SessionSpec(d(11, 9), 10, 1, "online", ("expert2",), d(11, 16))],
        ),
        CaseSpec(
            "haken",
            KAWAGOE,
            "held",
            [
                SessionSpec(d(7, 6), 13, 3, "onsite", ("expert3",), d(7, 13), reported_on=d(7, 7)),
                SessionSpec(
                    d(9, 7), 13, 3, "onsite", ("expert3",), d(9, 14),
                    reported_on=d(9, 10), survey=(4, "resolved"),
                ),
                SessionSpec(d(11, 2), 13, 3, "onsite", ("expert3",), d(11, 10)),  # overdue
                SessionSpec(d(11, 12), 13, 3, "onsite", ("expert3",), d(11, 19)),  # due soon
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
                    d(10, 5), 13, 3, "onsite", ("expert4", "expert5"), d(10, 13),
                    extra_munis=(KAWAGOE, SAITAMA), reported_on=d(10, 14),
                    survey=(3, "partly"), report={"effect": "広域での共同調達の方針が固まった"},
                ),
                SessionSpec(
                    d(7, 13), 10, 3, "onsite", ("expert6",), d(7, 21),
                    reported_on=d(7, 15), survey=(2, "not_yet"),
                ),
                SessionSpec(d(7, 21), 10, 3, "online", ("expert6",), d(7, 28), reported_on=d(7, 28)),
                SessionSpec(d(11, 18), 13, 3, "onsite", ("expert6",), d(11, 26)),  # planned
            ],
            domains=("情報システムの標準化・共通化",),
        ),
        CaseSpec(
            "haken", KAWAGUCHI, "coordinating",
            [SessionSpec(d(10, 20), 13, 3, "onsite", ("expert2",), d(10, 27), cancelled=True)],
        ),
        CaseSpec(
            "bansou",
            SAITAMA,
            "scheduled",
            [
                SessionSpec(d(10, 1), 10, 2, "onsite", ("expert1",), d(10, 8), reported_on=d(10, 7)),
                SessionSpec(d(11, 17), 10, 2, "onsite", ("expert1",), d(11, 25)),  # this week
                SessionSpec(d(12, 1), 10, 2, "onsite", ("expert1",), d(12, 8)),  # later
            ],
            domains=("方針・計画の策定",),
        ),
        CaseSpec(
            "bansou",
            TOKOROZAWA,
            "reported",
            [
                SessionSpec(
                    d(10, 1), 14, 2, "online", ("expert7",), d(10, 8),
                    reported_on=d(10, 8), survey_requested=True,
                )
            ],
        ),
        CaseSpec(
            "hearing", KAWAGUCHI, "reported",
            [SessionSpec(d(7, 1), 10, 2, "online", ("expert8",), d(7, 8), reported_on=d(7, 6))],
        ),
        CaseSpec("soudan", CHICHIBU, "received"),
        CaseSpec("soudan", KAWAGOE, "coordinating"),
        CaseSpec("soudan", TOKOROZAWA, "withdrawn"),
        CaseSpec("haken", SAITAMA, "on_hold"),
    ]  # fmt: skip


@dataclass
class World:
    specs: list[CaseSpec]
    people: dict[str, int]
    case_nos: list[str]
    names: dict[str, str]  # platform id -> name
    opened: list[dt.datetime]

    # For the export and deck tests, which build on this world.
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


# --- the program view -----------------------------------------------------------------------------

# Open days (開庁日) of the term 2026-04-01 … 2027-03-31, month by month: weekdays less the
# weekday holidays and the 12/29–1/3 closure.
#   Apr 22−1 (4/29) = 21, May 21−3 (5/4, 5/5, 5/6 振替) = 18, Jun 22, Jul 23−1 (7/20) = 22,
#   Aug 21−1 (8/11) = 20, Sep 22−3 (9/21, 9/22 国民の休日, 9/23) = 19, Oct 22−1 (10/12) = 21,
#   Nov 21−2 (11/3, 11/23) = 19, Dec 23−3 (12/29–31) = 20, Jan 21−2 (1/1, 1/11) = 19,
#   Feb 20−2 (2/11, 2/23) = 18, Mar 23−1 (3/22 振替) = 22  → 241 in all.
# Before 11/16: April–October 143, and 11/2, 11/4–6, 11/9–13 → 152 elapsed, 89 remaining.
TERM_OPEN_DAYS, ELAPSED, REMAINING = 241, 152, 89

# Per track (live sessions; 'held' once ended by 11/16 10:00). Goals are the targets 55 / 85 /
# 100 / 63; the pace so far is goal × 152/241 (34.7 / 53.6 / 63.1 / 39.7), and every track is
# below it, so all four are behind.
#   soudan: 6/1, 11/9 held, 1 h each, online.
#   haken: 7/6, 9/7, 11/2, 11/12, 10/5 (joint: once), 7/13 onsite and 7/21 online held,
#          3 h each; 11/18 planned; 10/20 cancelled (not counted).
#   bansou: 10/1 onsite and 10/1 online held, 2 h each; 11/17, 12/1 planned.
#   hearing: 7/1 held, 2 h, online.
TRACKS = {
    # track: (held, scheduled, hours held, onsite held, goal, remaining)
    "soudan": (2, 0, 2.0, 0, 55, 53),
    "haken": (7, 1, 21.0, 6, 85, 78),
    "bansou": (2, 2, 4.0, 1, 100, 98),
    "hearing": (1, 0, 2.0, 0, 63, 62),
}


async def test_program_view_figures(db: Database) -> None:
    async with db.transaction() as s:
        await build_world(s)
    async with db.transaction() as s:
        v = await status.program_status(s, PROFILE, CAL, NOW)

    assert (v.clock.total, v.clock.elapsed, v.clock.remaining) == (241, 152, 89)
    got = {
        tp.track_id: (tp.held, tp.scheduled, tp.hours_held, tp.onsite_held, tp.goal, tp.remaining)
        for tp in v.tracks
    }
    assert got == TRACKS
    pace = {tp.track_id: tp.pace_needed for tp in v.tracks}
    assert pace == pytest.approx({"soudan": 53 / 89, "haken": 78 / 89, "bansou": 98 / 89,
                                  "hearing": 62 / 89})  # fmt: skip
    assert {tp.track_id: tp.state for tp in v.tracks} == dict.fromkeys(TRACKS, "behind")

    assert v.cases_by_status == {
        "closed": 1,
        "held": 2,
        "scheduled": 2,
        "coordinating": 2,
        "reported": 2,
        "received": 1,
        "withdrawn": 1,
        "on_hold": 1,
    }

    # Reports out: 11/2's (due 11/10, overdue), 11/9's (due today), 11/12's (due 11/19, the 3rd
    # 開庁日 from today: 11/17, 11/18, 11/19).
    assert (v.pending.overdue, v.pending.due_soon) == (1, 2)
    assert [r.report_due for r in v.pending.rows] == [d(11, 10), d(11, 16), d(11, 19)]

    # This week (Mon 11/16 – Sun 11/22): bansou 11/17 10:00 and haken 11/18 13:00.
    assert v.week_sessions == 2
    assert [r.starts_at for r in v.week_rows] == [
        dt.datetime(2026, 11, 17, 10, tzinfo=JST),
        dt.datetime(2026, 11, 18, 13, tzinfo=JST),
    ]

    # haken per municipality: 川越市 4 of its own + the joint 10/5 = 5 (the cap); 熊谷市 4.
    caps = {cw.track_id: cw for cw in v.caps}
    assert caps["haken"].at_cap == [("川越市", 5)]
    assert caps["haken"].near_cap == [("熊谷市", 4)]
    assert caps["hearing"].at_cap == [("川口市", 1)]
    # さいたま市, 川口市, 川越市, 熊谷市, 所沢市 (秩父市's case has no session yet).
    assert v.municipalities_covered == 5

    # Live sessions per expert: expert1 4 (6/1, 10/1, 11/17, 12/1), expert3 4, expert6 3, the
    # other five 1 each (expert2's 10/20 was cancelled). Mean 16/8 = 2; variance
    # (5×1 + 1 + 2×4)/8 = 1.75.
    assert sorted(e.assigned for e in v.experts.experts) == [1, 1, 1, 1, 1, 3, 4, 4]
    # Held and scheduled apart: expert1 6/1, 10/1 held, 11/17, 12/1 scheduled; expert6 7/13,
    # 7/21 held, 11/18 scheduled; expert3 four held; the other five one held each.
    assert sorted((e.held, e.scheduled) for e in v.experts.experts) == [
        (1, 0), (1, 0), (1, 0), (1, 0), (1, 0), (2, 1), (2, 2), (4, 0)
    ]  # fmt: skip
    assert (v.experts.minimum, v.experts.maximum) == (1, 4)
    assert v.experts.mean == pytest.approx(2.0)
    assert v.experts.stdev == pytest.approx(1.75**0.5)

    # Surveys answered: 5, 4, 3, 2 → 3.5; one asked and unanswered (所沢市's 10/1).
    assert v.survey.answered == 4
    assert v.survey.average == pytest.approx(3.5)
    assert v.survey.by_resolved == {"resolved": 2, "partly": 1, "not_yet": 1}
    assert v.survey.requested_unanswered == 1


async def test_staff_text_is_short_and_worst_first(db: Database) -> None:
    async with db.transaction() as s:
        await build_world(s)
    async with db.transaction() as s:
        v = await status.program_status(s, PROFILE, CAL, NOW)
    text = render_status.render(v, CAL)
    lines = text.splitlines()
    # The queue leads (tests/test_queue.py): its header, the 10 oldest waits and the rest's
    # count at most; the rest of the message stays as short as before.
    assert lines[2].startswith("■ 対応待ち 8件")
    queue_end = next(i for i, ln in enumerate(lines) if ln == "■ 要対応")
    assert queue_end <= 2 + 12
    assert len(lines) - (queue_end - 2) <= 40
    assert "報告期限超過 1件" in text
    assert "3開庁日以内に報告期限 2件" in text
    # The overdue report (川越市, due 11/10: 11/11, 11/12, 11/13, 11/16 → 4 開庁日 late, held by
    # 渡辺 拓也) is named, before any track.
    overdue_line = next(i for i, ln in enumerate(lines) if "【4開庁日超過】" in ln)
    assert "川越市" in lines[overdue_line] and "渡辺 拓也" in lines[overdue_line]
    assert overdue_line < next(i for i, ln in enumerate(lines) if "■ 実績" in ln)
    # Tracks: behind ones before the others.
    tracks_at = next(i for i, ln in enumerate(lines) if ln.startswith("■ 実績"))
    track_lines = [ln for ln in lines[tracks_at:] if ln.startswith("・【")]
    states = ["遅れ" if "【遅れ】" in ln else "other" for ln in track_lines]
    assert states == sorted(states, key=lambda x: x != "遅れ")
    assert "川越市(5)" in text and "熊谷市(4)" in text
    assert "【本日期限】" in text  # 川口市's consultation of 11/9 is due today


# --- officers and experts -------------------------------------------------------------------------


async def test_officer_sees_only_their_municipality(db: Database) -> None:
    async with db.transaction() as s:
        await build_world(s)
    async with db.transaction() as s:
        v = await status.officer_status(s, PROFILE, CAL, NOW, SAITAMA, "さいたま市")
    # さいたま市's own cases 0001 (closed), 0006 (scheduled), 0012 (on hold), and 熊谷市's 0004
    # whose joint session さいたま市 took part in.
    assert v.cases_by_status == {"closed": 1, "scheduled": 2, "on_hold": 1}
    assert sorted(c.case_no for c in v.open_cases) == [
        "SAI-2026-0004",
        "SAI-2026-0006",
        "SAI-2026-0012",
    ]
    assert [r.starts_at for r in v.upcoming] == [
        dt.datetime(2026, 11, 17, 10, tzinfo=JST),
        dt.datetime(2026, 12, 1, 10, tzinfo=JST),
    ]
    caps = [(c.track_name, c.held, c.scheduled, c.cap) for c in v.caps]
    assert ("デジタル専門人材の派遣によるアドバイス支援", 1, 0, 5) in caps  # the joint 10/5
    assert v.survey.answered == 2  # 6/1's and the joint 10/5's
    text = render_status.render(v, CAL)
    assert "川越市" not in text.replace("さいたま市", "")  # no other municipality's case shows


async def test_expert_sees_their_assignments_and_pending_reports(db: Database) -> None:
    async with db.transaction() as s:
        w = await build_world(s)
    async with db.transaction() as s:
        v = await status.expert_status(s, PROFILE, CAL, NOW, w.people["expert3"], "渡辺 拓也")
    # expert3: 7/6, 9/7 reported; 11/2 overdue; 11/12 pending. Four held, 3 h each.
    assert (v.pending.overdue, v.pending.due_soon) == (1, 1)
    assert v.held == 4
    assert v.hours_held == pytest.approx(12.0)
    text = render_status.render(v, CAL)
    assert "未提出の報告 2件（うち期限超過1件）" in text
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
    # the figures, lists, survey, engaged vs expected (one), deliverables and event counts (two),
    # and the queue (six: cases, pending reports, surveys, their cases, experts, deliverables)
    assert before <= 19


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
        direct = await reporting.direct_figures(s, PROFILE.id, WINDOW, NOW)
    # 15 live sessions; one un-cancelled, one cancelled, one deleted → 14.
    assert sum(tp.held + tp.scheduled for tp in v.tracks) == 14
    assert _same(v.figures, direct)


WINDOW = reporting.counting_window(PROFILE)


def _same(a: reporting.Figures, b: reporting.Figures) -> bool:
    """Two countings agree on every track, municipality and expert figure."""
    return (a.tracks, a.municipalities, a.experts) == (b.tracks, b.municipalities, b.experts)


async def test_tallies_and_direct_aggregates_agree_at_any_hour(db: Database) -> None:
    """Held/scheduled from the tallies (less the sessions not held in the term) equal a direct
    count at times around a session's end, midnight JST included."""
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
            direct = await reporting.direct_figures(s, PROFILE.id, WINDOW, at)
            tallied = await reporting.count_figures(s, PROFILE.id, WINDOW, at)
            tracks = await reporting.track_figures(s, PROFILE.id, WINDOW, at)
        assert _same(tallied, direct), at
        # The web overview's per-track figures (later days from the per-day tallies) agree too.
        assert tracks.tracks == direct.tracks, at
        assert tracks.cases_by_status == tallied.cases_by_status, at


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
    """Kumamoto §2.4: a joint session for several municipalities counts once toward the total
    (haken held 7, not 9), and once toward each participating municipality's cap."""
    async with db.transaction() as s:
        await build_world(s)
    async with db.transaction() as s:
        v = await status.program_status(s, PROFILE, CAL, NOW)
        saitama = await status.officer_status(s, PROFILE, CAL, NOW, SAITAMA, "さいたま市")
    haken = next(tp for tp in v.tracks if tp.track_id == "haken")
    assert (haken.held, haken.scheduled) == (7, 1)
    caps = {cw.track_id: cw for cw in v.caps}
    assert caps["haken"].at_cap == [("川越市", 5)]  # 4 of its own and the joint one
    assert [(c.track_id, c.held, c.scheduled, c.cap) for c in saitama.caps] == [
        ("haken", 1, 0, 5),
        ("hearing", 0, 0, 1),
    ]
