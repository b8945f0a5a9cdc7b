"""One dataset, one set of numbers: `/status` (text), `dxbot status --json`, a deck and the
exports count the same sessions the same way (``store.reporting.counting``), on SQLite and
PostgreSQL. Every expected figure is worked out by hand below.

Saitama FY2026 (term 2026-04-01 – 2027-03-31, last day of service 2027-03-19), counted at
Monday 2026-11-16 10:00 JST:

| # | case | track | municipalities | start | hours | method | expert | state at 11/16 10:00 |
|---|---|---|---|---|---|---|---|---|
| 1 | A | soudan | さいたま市 | 6/1 14:00 | 1 | online | expert1 | held |
| 2 | B | haken | 川越市 + 熊谷市 (joint) | 10/5 13:00 | 3 | onsite | expert3 | held |
| 3 | B | haken | 川越市 | 11/18 13:00 | 3 | onsite | expert3 | scheduled |
| 4 | B | haken | 川越市 | 10/20 13:00 | 3 | onsite | expert3 | cancelled |
| 5 | C | bansou | さいたま市 | 11/16 9:00 | 2 | onsite | expert1 | scheduled (running: ends 11:00) |
| 6 | C | bansou | さいたま市 | 7/1 10:00 | 2 | onsite | expert2 | held, report due 7/8: overdue |
| 7 | D | soudan | 川口市 | 2027-04-06 10:00 | 1 | online | expert2 | outside the term (after it) |
| 8 | D | soudan | 川口市 | 2026-03-30 10:00 | 1 | online | expert2 | outside the term (before it) |

Per track (held / scheduled / cancelled / hours held / on-site held):
  soudan 1 / 0 / 0 / 1 / 0 (#7, #8 count nowhere); haken 1 / 1 / 1 / 3 / 1 (the joint #2
  once); bansou 1 / 1 / 0 / 2 / 1; hearing 0 / 0 / 0 / 0 / 0.
Per municipality and track (held / scheduled): さいたま市 soudan 1/0, bansou 1/1; 川越市 haken
  1/1 (2 of the cap 5); 熊谷市 haken 1/0 (the joint #2); 川口市 nothing (outside the term only).
Per expert (held / scheduled / hours held): expert1 1/1/1; expert2 1/0/2; expert3 1/1/3.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

from pptx import Presentation
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.catalog import t
from bot.demo import add_people
from reminders.calendar import BusinessCalendar
from reports import deck, export, render_status, status, status_json
from reports.status import Period
from store import cases, reporting, sessions
from store.db import Database
from store.models import Municipality, SupportSession
from store.profiles import load_profile
from store.seed import seed_program
from tests.test_status import CAL, NOW, PROFILE, run_cli

SAITAMA, KAWAGOE, KUMAGAYA, KAWAGUCHI = "111007", "112011", "112020", "112038"
SOUDAN = "DXよろず相談窓口"
HAKEN = "デジタル専門人材の派遣によるアドバイス支援"
BANSOU = "県職員と連携した長期伴走支援"
HEARING = "市町村ヒアリングへの同席"

# track: (held, scheduled, cancelled, hours held, on-site held) — see the table above.
TRACKS = {
    "soudan": (1, 0, 0, 1.0, 0),
    "haken": (1, 1, 1, 3.0, 1),
    "bansou": (1, 1, 0, 2.0, 1),
    "hearing": (0, 0, 0, 0.0, 0),
}
MUNICIPALITIES = {
    # (code, track): (held, scheduled)
    (SAITAMA, "soudan"): (1, 0),
    (SAITAMA, "bansou"): (1, 1),
    (KAWAGOE, "haken"): (1, 1),
    (KUMAGAYA, "haken"): (1, 0),
}
EXPERTS = {"expert1": (1, 1, 1.0), "expert2": (1, 0, 2.0), "expert3": (1, 1, 3.0)}


def at(y: int, m: int, d: int, h: int) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=dt.timezone(dt.timedelta(hours=9)))


async def build(s: AsyncSession) -> dict[str, Any]:
    """The table's sessions; #7 and #8 are moved outside the term afterwards, as data from
    before the term was enforced would be."""
    await seed_program(s, PROFILE, NOW)
    munis = list(
        (
            await s.scalars(
                select(Municipality)
                .where(Municipality.prefecture_code == "11")
                .order_by(Municipality.code)
            )
        ).all()
    )
    people = await add_people(s, munis, NOW)
    opened = at(2026, 5, 1, 9)
    case_ids: dict[str, tuple[int, str]] = {}
    for key, track, muni in (
        ("A", "soudan", SAITAMA),
        ("B", "haken", KAWAGOE),
        ("C", "bansou", SAITAMA),
        ("D", "soudan", KAWAGUCHI),
    ):
        c = await cases.create(
            s,
            program_id=PROFILE.id,
            prefix=PROFILE.case_prefix,
            year=2026,
            track_id=track,
            municipality_code=muni,
            now=opened,
            domains=("自治体のAIの利用促進",),
            description="生成AIの庁内利用を進めたい",
        )
        case_ids[key] = (c.id, c.case_no)
    specs = [
        # (case, start, hours, method, expert, extra municipalities, cancelled, report due)
        ("A", at(2026, 6, 1, 14), 1, "online", "expert1", (), False, dt.date(2026, 12, 25)),
        ("B", at(2026, 10, 5, 13), 3, "onsite", "expert3", (KUMAGAYA,), False, dt.date(2026, 12, 25)),
        ("B", at(2026, 11, 18, 13), 3, "onsite", "expert3", (), False, dt.date(2026, 11, 26)),
        ("B", at(2026, 10, 20, 13), 3, "onsite", "expert3", (), True, dt.date(2026, 10, 27)),
        ("C", at(2026, 11, 16, 9), 2, "onsite", "expert1", (), False, dt.date(2026, 11, 24)),
        ("C", at(2026, 7, 1, 10), 2, "onsite", "expert2", (), False, dt.date(2026, 7, 8)),
        ("D", at(2026, 9, 1, 10), 1, "online", "expert2", (), False, dt.date(2027, 1, 29)),
        ("D", at(2026, 9, 2, 10), 1, "online", "expert2", (), False, dt.date(2027, 1, 29)),
    ]  # fmt: skip
    ids = []
    for key, start, hours, method, expert, extra, cancelled, due in specs:
        cid, _no = case_ids[key]
        track = {"A": "soudan", "B": "haken", "C": "bansou", "D": "soudan"}[key]
        own = {"A": SAITAMA, "B": KAWAGOE, "C": SAITAMA, "D": KAWAGUCHI}[key]
        row = await sessions.create(
            s,
            program_id=PROFILE.id,
            case_id=cid,
            track_id=track,
            starts_at=start,
            hours=hours,
            method=method,
            place="庁舎会議室" if method == "onsite" else "オンライン",
            report_due=due,
            municipality_codes=[own, *extra],
            expert_user_ids=[people[expert]],
            now=opened,
            status="cancelled" if cancelled else "scheduled",
        )
        ids.append(row.id)
    for sid, start in ((ids[6], at(2027, 4, 6, 10)), (ids[7], at(2026, 3, 30, 10))):
        await s.execute(
            update(SupportSession)
            .where(SupportSession.id == sid)
            .values(starts_at=start, ends_at=start + dt.timedelta(hours=1))
        )
    await s.flush()
    return {"ids": ids, "cases": {k: no for k, (_i, no) in case_ids.items()}, "people": people}


# --- the store and the views ------------------------------------------------------------------


async def test_the_counting_rule_on_each_session(db: Database) -> None:
    async with db.transaction() as s:
        w = await build(s)
    window = reporting.counting_window(PROFILE)
    assert (window.first, window.last) == (dt.date(2026, 4, 1), dt.date(2027, 3, 19))
    async with db.transaction() as s:
        rows = await reporting.sessions_between(s, PROFILE.id, None, None, include_cancelled=True)
    states = {
        r.id: reporting.count_state(r.status, r.starts_at, r.ends_at, NOW, window) for r in rows
    }
    assert [states[i] for i in w["ids"]] == [
        "held", "held", "scheduled", "cancelled", "scheduled", "held", "outside_term",
        "outside_term",
    ]  # fmt: skip


async def test_tallies_and_a_direct_count_give_the_hand_worked_figures(db: Database) -> None:
    async with db.transaction() as s:
        w = await build(s)
    names = {v: k for k, v in w["people"].items()}
    window = reporting.counting_window(PROFILE)
    async with db.transaction() as s:
        for figures in (
            await reporting.count_figures(s, PROFILE.id, window, NOW),
            await reporting.direct_figures(s, PROFILE.id, window, NOW),
        ):
            got = {
                tid: (t.held, t.scheduled, t.cancelled, t.hours_held, t.onsite_held)
                for tid, t in figures.tracks.items()
            }
            assert {k: v for k, v in got.items()} == {k: v for k, v in TRACKS.items() if any(v)}
            assert {
                (m.code, m.track_id): (m.held, m.scheduled) for m in figures.municipalities
            } == MUNICIPALITIES
            experts = {
                names[e.user_id]: (e.held, e.scheduled, e.hours_held)
                for e in figures.experts
                if e.assigned
            }
            assert experts == EXPERTS


async def test_status_text_shows_the_same_figures(db: Database) -> None:
    async with db.transaction() as s:
        await build(s)
    async with db.transaction() as s:
        v = await status.program_status(s, PROFILE, CAL, NOW)
    text = render_status.render(v, CAL)
    # Targets 55 / 85 / 100 / 63; haken's minimum 50. All four are behind the straight line.
    assert f"【遅れ】{SOUDAN}: 実施済1/55件（目標） 1時間・予定0件" in text
    assert (
        f"【遅れ】{HAKEN}: 実施済1/85件（目標）・最低50件に対しても遅れ 3時間・予定1件・中止1件"
        in text
    )
    assert f"【遅れ】{BANSOU}: 実施済1/100件（目標） 2時間・予定1件" in text
    assert f"【遅れ】{HEARING}: 実施済0/63件（目標） 0時間・予定0件" in text
    # 川越市's cap of 5 counts held + scheduled: 2, neither at nor one short of the cap.
    assert (
        f"■ {HAKEN}（1団体5回まで・実施済＋予定で計上・2団体）上限到達: なし / あと1回: なし"
        in text
    )
    assert "■ 支援を実施した市町村 3団体" in text  # さいたま市, 川越市, 熊谷市 (川口市: outside)
    assert "・実施済 計3回6時間" in text  # expert1 1 h, expert2 2 h, expert3 3 h
    assert "報告期限超過 1件" in text  # #6


async def test_json_shows_the_same_figures_per_role(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    async with db.transaction() as s:
        w = await build(s)
    out = run_cli(db_url, "status", "--json", "--now", NOW.isoformat(), cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    data = json.loads(out.stdout)
    assert data["program"] == {
        "id": "saitama-2026",
        "name": "令和8年度第2期埼玉県市町村DX推進支援業務",
        "term_start": "2026-04-01",
        "term_end": "2027-03-31",
        "last_service_day": "2027-03-19",
    }
    assert data["as_of"] == "2026-11-16T10:00:00+09:00"
    assert data["scope"]["kind"] == "program"
    tracks = {
        t["id"]: (t["held"], t["scheduled"], t["cancelled"], t["hours_held"], t["onsite_held"])
        for t in data["tracks"]
    }
    assert tracks == TRACKS
    haken = next(t for t in data["tracks"] if t["id"] == "haken")
    assert (haken["target"], haken["minimum"], haken["state"]) == (85, 50, "behind")
    munis = {
        (m["code"], tid): (f["held"], f["scheduled"])
        for m in data["municipalities"]
        for tid, f in m["tracks"].items()
    }
    assert munis == MUNICIPALITIES
    kawagoe = next(m for m in data["municipalities"] if m["code"] == KAWAGOE)
    assert kawagoe == {
        "code": KAWAGOE,
        "name": "川越市",
        "tracks": {"haken": {"held": 1, "scheduled": 1, "cap": 5}},
    }
    assert data["reports"]["overdue"] == 1 and data["reports"]["due_soon"] == 0
    [item] = data["reports"]["items"]
    assert (item["session_id"], item["case_id"], item["due"], item["overdue"]) == (
        w["ids"][5],
        w["cases"]["C"],
        "2026-07-08",
        True,
    )
    assert item["holders"] == ["伊藤 由美"]  # expert2 (bot.demo's roster)
    kinds = [(f["kind"], f["tracks"]) for f in data["flags"]]
    assert kinds == [
        ("reports_overdue", []),
        ("behind_target", ["soudan"]),
        ("behind_target", ["haken"]),
        ("behind_target", ["bansou"]),
        ("behind_target", ["hearing"]),
        ("minimum_not_met", ["haken"]),
    ]
    minimum = next(f for f in data["flags"] if f["kind"] == "minimum_not_met")
    assert minimum["text"] == f"{HAKEN}: 最低50件に対して実施済1件で、まだ満たしていません"

    officer = json.loads(
        run_cli(db_url, "status", "--json", "--as", "officer1", "--now", NOW.isoformat(),
                cwd=tmp_path).stdout
    )  # fmt: skip
    assert officer["scope"] == {
        "kind": "municipality",
        "municipality_code": SAITAMA,
        "municipality_name": "さいたま市",
        "expert": None,
    }
    assert {t["id"]: (t["held"], t["scheduled"]) for t in officer["tracks"]} == {
        "soudan": (1, 0),
        "haken": (0, 0),
        "bansou": (1, 1),
        "hearing": (0, 0),
    }
    assert {m["code"] for m in officer["municipalities"]} == {SAITAMA}
    assert all(t["target"] is None and t["state"] == "no_goal" for t in officer["tracks"])

    expert = json.loads(
        run_cli(db_url, "status", "--json", "--as", "expert3", "--now", NOW.isoformat(),
                cwd=tmp_path).stdout
    )  # fmt: skip
    assert {t["id"]: (t["held"], t["scheduled"], t["cancelled"]) for t in expert["tracks"]} == {
        "soudan": (0, 0, 0),
        "haken": (1, 1, 1),
        "bansou": (0, 0, 0),
        "hearing": (0, 0, 0),
    }
    one = json.loads(
        run_cli(db_url, "status", "--json", "--case", w["cases"]["B"], "--now", NOW.isoformat(),
                cwd=tmp_path).stdout
    )  # fmt: skip
    assert (one["held"], one["scheduled"], one["hours_held"]) == (1, 1, 3.0)
    assert [x["count_state"] for x in one["sessions"]] == ["held", "cancelled", "scheduled"]


async def test_json_model_and_text_agree_with_the_view(db: Database) -> None:
    async with db.transaction() as s:
        await build(s)
    async with db.transaction() as s:
        v = await status.program_status(s, PROFILE, CAL, NOW)
    model = status_json.status_json(v, PROFILE, CAL)
    assert {t.id: t.held for t in model.tracks} == {k: h for k, (h, *_r) in TRACKS.items()}


# --- a deck ---------------------------------------------------------------------------------------


async def test_completion_deck_shows_the_same_figures(db: Database) -> None:
    async with db.transaction() as s:
        await build(s)
    async with db.transaction() as s:
        data = await deck.load_deck_data(
            s, PROFILE, CAL, NOW, "completion", Period(PROFILE.term_start, PROFILE.term_end)
        )
    content, _n = deck.build_deck(data)
    prs = Presentation(io.BytesIO(content))
    texts = [
        p.text
        for slide in prs.slides
        for sh in slide.shapes
        if sh.has_text_frame
        for p in sh.text_frame.paragraphs
    ]
    # 1/55 = 1.8 %, 1/85 = 1.2 %, 1/100 = 1 %, 0/63 = 0 %; the tracks' short labels;
    # each line is a bullet (・).
    assert "・よろず相談: 実施済1/55件（1.8%）遅れ・予定0件" in texts
    assert "・人材派遣: 実施済1/85件（1.2%）遅れ・予定1件" in texts
    assert "・長期伴走: 実施済1/100件（1%）遅れ・予定1件" in texts
    assert "・ヒアリング同席: 実施済0/63件（0%）遅れ・予定0件" in texts
    assert "・実施済 計3回・6時間（ほかに予定2回）" in texts  # experts: #5 and #3 scheduled
    kpi = next(
        sh.chart
        for slide in prs.slides
        for sh in slide.shapes
        if sh.has_chart
        and "実施済" in [s.name for s in sh.chart.plots[0].series]
        and "目標" in [s.name for p in sh.chart.plots for s in p.series]  # marks on a line plot
    )
    held = dict(zip(kpi.plots[0].categories, kpi.plots[0].series[0].values, strict=True))
    assert held == {
        "よろず相談": 1,
        "人材派遣": 1,
        "長期伴走": 1,
        "ヒアリング同席": 0,
    }


# --- the exports ------------------------------------------------------------------------------------


async def test_exports_show_the_same_figures(db: Database) -> None:
    async with db.transaction() as s:
        w = await build(s)
    async with db.transaction() as s:
        sessions_csv = await export.export(s, PROFILE, "sessions", "csv", NOW)
        cases_json = await export.export(s, PROFILE, "cases", "json", NOW)
        sessions_json = await export.export(s, PROFILE, "sessions", "json", NOW)
    rows = list(csv.reader(io.StringIO(sessions_csv.content.decode("utf-8-sig"))))
    head = rows[0]
    track, state = head.index(t("ex_col_track_name")), head.index("集計区分")
    counted = Counter((r[track], r[state]) for r in rows[1:])
    assert counted == {
        (SOUDAN, "実施済"): 1,
        (SOUDAN, "契約期間外"): 2,
        (HAKEN, "実施済"): 1,
        (HAKEN, "予定"): 1,
        (HAKEN, "中止"): 1,
        (BANSOU, "実施済"): 1,
        (BANSOU, "予定"): 1,
    }
    by_id = {r["id"]: r["count_state"] for r in json.loads(sessions_json.content)}
    assert by_id[w["ids"][4]] == "scheduled"  # running at 10:00, ends 11:00
    per_case = {
        c["id"]: (c["sessions_held"], c["sessions_scheduled"], c["hours_held"])
        for c in json.loads(cases_json.content)
    }
    assert per_case == {
        w["cases"]["A"]: (1, 0, 1.0),
        w["cases"]["B"]: (1, 1, 3.0),
        w["cases"]["C"]: (1, 1, 2.0),
        w["cases"]["D"]: (0, 0, 0.0),  # both outside the term
    }


# --- an on-site minimum across tracks (Yamagata §3(1)⑤) -------------------------------------------

YAMAGATA = load_profile("yamagata-2026")
DENSHI = "伴走支援（電子契約システムにかかる共同調達・運用支援）"
KOUIKI = "伴走支援（広域DXの推進・横展開支援）"
ONSITE_FLAG = f"{DENSHI}・{KOUIKI}: 現地での支援（訪問）が実施済{{n}}回で、2回以上の条件をまだ満たしていません"


async def _yamagata(s: AsyncSession, onsite: bool) -> None:
    """Five online sessions held in each accompaniment theme (June); with ``onsite``, one
    on-site session held in 電子契約 (7/1) and one booked in 広域DX (12/1)."""
    await seed_program(s, YAMAGATA, NOW)
    munis = list(
        (await s.scalars(select(Municipality).where(Municipality.prefecture_code == "06"))).all()
    )
    people = await add_people(s, munis, NOW)
    specs = [(track, at(2026, 6, day, 10), "online") for track in ("denshi_keiyaku", "kouiki_dx")
             for day in (1, 2, 3, 4, 5)]  # fmt: skip
    if onsite:
        specs += [
            ("denshi_keiyaku", at(2026, 7, 1, 10), "onsite"),
            ("kouiki_dx", at(2026, 12, 1, 10), "onsite"),
        ]
    for track, start, method in specs:
        c = await cases.create(
            s,
            program_id=YAMAGATA.id,
            prefix=YAMAGATA.case_prefix,
            year=2026,
            track_id=track,
            municipality_code="062014",  # 山形市
            now=at(2026, 5, 1, 9),
        )
        await sessions.create(
            s,
            program_id=YAMAGATA.id,
            case_id=c.id,
            track_id=track,
            starts_at=start,
            hours=2,
            method=method,
            place="",
            report_due=dt.date(2027, 3, 31),
            municipality_codes=["062014"],
            expert_user_ids=[people["expert1"]],
            now=at(2026, 5, 1, 9),
            status="scheduled",
        )
    await s.flush()


async def test_an_onsite_minimum_across_two_tracks_is_a_shortfall_until_met(db: Database) -> None:
    cal = BusinessCalendar(YAMAGATA.closed_days)
    async with db.transaction() as s:
        await _yamagata(s, onsite=False)
    async with db.transaction() as s:
        v = await status.program_status(s, YAMAGATA, cal, NOW)
    text = render_status.render(v, cal)
    # Both themes have held their minimum of 5: 【達成】, yet no on-site session across them.
    assert f"・【達成】{KOUIKI}: 実施済5/5件（最低） 10時間・予定0件" in text
    attention, tracks = text.split("■ 実績")
    assert "・" + ONSITE_FLAG.format(n=0) in attention
    assert f"・{DENSHI}・{KOUIKI}の訪問（実施済・合計） 0回（2回以上）【未達】" in tracks
    data = status_json.status_json(v, YAMAGATA, cal)
    assert [(r.tracks, r.minimum, r.onsite_held, r.met) for r in data.onsite_rules] == [
        (["denshi_keiyaku", "kouiki_dx"], 2, 0, False)
    ]
    assert [(f.kind, f.tracks, f.text) for f in data.flags] == [
        (
            "behind_target",
            ["soudan"],
            "市町村DX相談窓口: 実施済0件で、20件の目標に対して遅れています",
        ),
        ("onsite_minimum_not_met", ["denshi_keiyaku", "kouiki_dx"], ONSITE_FLAG.format(n=0)),
    ]


async def test_a_booked_onsite_session_counts_once_it_is_held(db: Database) -> None:
    cal = BusinessCalendar(YAMAGATA.closed_days)
    async with db.transaction() as s:
        await _yamagata(s, onsite=True)
    after = at(2026, 12, 2, 9)  # the 12/1 10:00–12:00 session has ended
    async with db.transaction() as s:
        now_view = await status.program_status(s, YAMAGATA, cal, NOW)
        later = await status.program_status(s, YAMAGATA, cal, after)
    # 11/16: 7/1 on-site held (1), 12/1 on-site only booked → 1 of 2, still a shortfall.
    assert [(r.onsite_held, r.met) for r in now_view.onsite] == [(1, False)]
    assert ONSITE_FLAG.format(n=1) in render_status.render(now_view, cal)
    # 12/2: both held → 2 of 2, met; no flag.
    assert [(r.onsite_held, r.met) for r in later.onsite] == [(2, True)]
    assert "現地での支援（訪問）" not in render_status.render(later, cal)
    assert "onsite_minimum_not_met" not in [f.kind for f in later.flags]


async def test_the_completion_deck_shows_the_onsite_minimum_across_tracks(db: Database) -> None:
    cal = BusinessCalendar(YAMAGATA.closed_days)
    async with db.transaction() as s:
        await _yamagata(s, onsite=True)
    async with db.transaction() as s:
        data = await deck.load_deck_data(
            s, YAMAGATA, cal, NOW, "completion", Period(YAMAGATA.term_start, YAMAGATA.term_end)
        )
    prs = Presentation(io.BytesIO(deck.build_deck(data)[0]))
    texts = [
        p.text
        for slide in prs.slides
        for sh in slide.shapes
        if sh.has_text_frame
        for p in sh.text_frame.paragraphs
    ]
    # The tracks' short labels; 7/1 held on site, 12/1 only booked: 1 of 2.
    assert "・伴走（電子契約）・伴走（広域DX）の訪問（実施済）: 1回／2回以上 未達" in texts
