"""Reports follow the profile (issue 12 item 5), Yamagata §6(4): the 相談窓口実施報告書 is made
「相談窓口対応市町村ごとに」 and submitted to the prefecture within 5開庁日. A joint consultation of
山形市 and 天童市 asks the shared parts once and each municipality's own parts, yields two files,
both reach the prefecture channel, and the deadline counts as met only when they reach it.

Dates worked out by hand: a session on Thursday 2026-11-19; 5開庁日 after it are 11/20 (Fri),
11/24 (Tue; 11/23 Mon is 勤労感謝の日), 11/25, 11/26 and 11/27 (Fri) — due 2026-11-27.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import openpyxl
import pytest

from bot.app import build_services
from bot.core.config import Settings
from reminders.clock import FixedClock
from store import cases as case_store
from store import reminders as reminder_store
from store import sessions as session_store
from store import users as user_store
from store.models import SupportSession
from store.profiles import load_profile
from store.seed import seed_program
from tests.conftest import ChatBot, RecordingSender
from tests.test_reminder_pass import jst, run, to

YAMAGATA_CITY = "062014"  # 山形市
TENDO = "062103"  # 天童市


@pytest.fixture
async def ybot(bot: ChatBot, db_url: str, clock: FixedClock) -> AsyncIterator[ChatBot]:
    """The Yamagata program on the same database as the demo people (expert1, staff1)."""
    services = build_services(
        Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM="yamagata-2026"),  # type: ignore[call-arg]
        clock=clock,
    )
    async with services.db.transaction() as s:
        await seed_program(s, load_profile("yamagata-2026"), clock.now())
    yield ChatBot(services, RecordingSender())
    await services.db.dispose()


@dataclass(frozen=True)
class Joint:
    case_id: int
    case_no: str
    session_id: int


async def joint_consultation(ybot: ChatBot) -> Joint:
    """A 2-hour online consultation on 2026-11-19 14:00 for 山形市 and 天童市, expert1."""
    services = ybot.services
    starts = jst("2026-11-19 14:00")
    async with services.db.transaction() as s:  # type: ignore[attr-defined]
        officer = await user_store.add(
            s,
            platform="console",
            platform_id="yofficer",
            role="officer",
            now=starts - dt.timedelta(days=30),
            municipality_code=YAMAGATA_CITY,
            name="最上 花子",
        )
        expert = await user_store.get_by_platform_id(s, "console", "expert1")
        assert expert is not None
        case = await case_store.create(
            s,
            program_id="yamagata-2026",
            prefix="YAM",
            year=2026,
            track_id="soudan",
            municipality_code=YAMAGATA_CITY,
            now=starts - dt.timedelta(days=14),
            requester_user_id=officer.id,
            department="DX推進課",
            domains=["自治体のAIの利用促進"],
            description="両市合同で生成AIの利用ルールを相談したい",
            status="scheduled",
        )
        session = await session_store.create(
            s,
            program_id="yamagata-2026",
            case_id=case.id,
            track_id="soudan",
            starts_at=starts,
            hours=2,
            method="online",
            place="オンライン（Teams）",
            report_due=dt.date(2026, 11, 27),
            municipality_codes=[YAMAGATA_CITY, TENDO],
            expert_user_ids=[expert.id],
            now=starts - dt.timedelta(days=7),
        )
        return Joint(case.id, case.case_no, session.id)


async def pending_ids(ybot: ChatBot, when: str) -> list[int]:
    async with ybot.services.db.transaction() as s:  # type: ignore[attr-defined]
        pending = await reminder_store.pending_reports(s, "yamagata-2026", jst(when))
    return [p.session_id for p in pending]


SHARED = [
    ("summary", "両市合同で、生成AIの庁内利用ルールの作り方を相談された"),
    ("response", "先行団体のガイドラインを比較し、骨子案を示した"),
    ("effect", "両市で共通の論点が整理された"),
    ("materials", "他団体ガイドライン比較表"),
    ("next_plan", "1月に両市合同でレビュー"),
]
OWN = {
    "山形市": ("DX推進課 主査 最上花子", "利用してよい業務の線引きが未定", "12月中に素案を作成"),
    "天童市": ("総務課 主任 羽黒一郎", "職員研修の計画がない", "研修計画を1月までに作成"),
}


async def test_a_joint_consultation_yields_one_report_per_municipality_to_the_prefecture(
    ybot: ChatBot, clock: FixedClock
) -> None:
    j = await joint_consultation(ybot)
    await run(ybot, clock, "2026-11-19 16:00")  # the session has ended: the expert is asked

    # Not delivered yet: the report is pending, the expert is chased on the due day.
    assert await pending_ids(ybot, "2026-11-27 09:00") == [j.session_id]
    clock.set(jst("2026-11-20 10:00"))
    intro, first = await ybot.say("expert1", "/report")
    assert intro.text.startswith(
        f"{j.case_no}の支援実施報告を作成します（提出期限: 2026年11月27日(金)）"
    )
    assert "この報告は市町村ごとに作成します（山形市、天童市）" in intro.text
    assert first.text.endswith("相談の概要を教えてください。")  # the shared parts come first

    replies = []
    for _key, text in SHARED:
        replies = await ybot.say("expert1", text)
    # Then each municipality's own parts, named.
    for name, (attendees, issues, policy) in OWN.items():
        assert replies[-1].text.startswith(f"【{name}】市町村側の出席者")
        replies = await ybot.say("expert1", attendees)
        assert replies[-1].text == f"【{name}】把握された課題やその内容を教えてください。"
        replies = await ybot.say("expert1", issues)
        assert replies[-1].text == f"【{name}】合意した今後の対応方針を教えてください。"
        replies = await ybot.say("expert1", policy)
    assert replies[-1].text.startswith("支援時間は2時間でよろしいですか？")
    summary = (await ybot.say("expert1", "はい"))[-1]
    fields = dict(summary.fields)
    assert fields["市町村名"] == "山形市、天童市"
    assert fields["市町村職員（所属・職・氏名）（天童市）"] == "総務課 主任 羽黒一郎"
    assert fields["対応方針（山形市）"] == "12月中に素案を作成"

    clock.set(jst("2026-11-20 10:30"))
    done = await ybot.say("expert1", "1")
    assert [r.text for r in done] == [
        f"{j.case_no}の支援実施報告を提出しました（第1版）。ありがとうございました。"
    ]

    # Two files, one per municipality, reached the prefecture channel.
    (posted,) = [m for m in to(ybot, "prefecture") if m.files]
    assert (
        posted.text
        == f"【報告】{j.case_no}の相談窓口実施報告書（第1版）を提出します（ファイル2件）。"
    )
    assert [f.name for f in posted.files] == [
        f"相談窓口実施報告_{j.case_no}_20261119_山形市_v1.xlsx",
        f"相談窓口実施報告_{j.case_no}_20261119_天童市_v1.xlsx",
    ]
    sheets = {}
    for f in posted.files:
        sheet = openpyxl.load_workbook(io.BytesIO(f.content)).active
        assert sheet is not None
        assert sheet["A1"].value == "令和8年度 県・市町村DX推進体制整備事業業務 相談窓口実施報告書"
        rows = dict((r[0], r[1]) for r in sheet.iter_rows(min_row=3, max_col=2, values_only=True))
        sheets[rows["市町村名"]] = rows
    assert sheets["山形市"]["市町村職員（所属・職・氏名）"] == "DX推進課 主査 最上花子"
    assert sheets["山形市"]["把握された課題・内容"] == "利用してよい業務の線引きが未定"
    assert sheets["天童市"]["市町村職員（所属・職・氏名）"] == "総務課 主任 羽黒一郎"
    assert sheets["天童市"]["対応方針"] == "研修計画を1月までに作成"
    for rows in sheets.values():  # the shared parts in both
        assert rows["相談概要"] == "両市合同で、生成AIの庁内利用ルールの作り方を相談された"
        assert rows["支援時間（時間）"] == "2"
        assert rows["報告期限"] == "2026年11月27日(金)"
    # The staff keep a copy.
    assert [len(m.files) for m in to(ybot, "staff") if m.files] == [2]

    # The deadline is met when the files reached the prefecture: then, and no more chasing.
    async with ybot.services.db.transaction() as s:  # type: ignore[attr-defined]
        session = await s.get(SupportSession, j.session_id)
        assert session is not None
        assert session.report_submitted_at == jst("2026-11-20 10:30")
        assert session.report_stage == "delivered"
    assert await pending_ids(ybot, "2026-11-27 09:00") == []
    assert not [x for x in (await run(ybot, clock, "2026-11-27 09:00")).sent if j.case_no in x]


async def test_a_report_saved_for_later_is_not_delivered(ybot: ChatBot, clock: FixedClock) -> None:
    """Writing is not submitting: the deadline stays open and the due-day ping still comes."""
    j = await joint_consultation(ybot)
    await run(ybot, clock, "2026-11-19 16:00")
    clock.set(jst("2026-11-20 10:00"))
    await ybot.say("expert1", "/report")
    await ybot.say("expert1", "やめる")
    assert not [m for m in to(ybot, "prefecture") if m.files]
    sent = (await run(ybot, clock, "2026-11-27 09:00")).sent
    assert [x for x in sent if j.case_no in x] == [f"expert:{await _uid(ybot)} {j.case_no} due_day"]


async def _uid(ybot: ChatBot) -> int:
    async with ybot.services.db.transaction() as s:  # type: ignore[attr-defined]
        user = await user_store.get_by_platform_id(s, "console", "expert1")
    assert user is not None
    return user.id
