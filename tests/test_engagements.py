"""Engagements in the chat and their plan document (issue 14, item 1), on SQLite and PostgreSQL.

Saitama's 長期伴走支援 (bansou) runs engagements (§6(4): 5～10 municipalities, its plan the
実施プラン); its 相談窓口 (soudan) runs none. Staff record an engagement with key=value words and
edit any subset later; the goal's date is the day it was first recorded (now is Mon 2026-11-16
10:00 JST). Officers of the case's municipality and the case's expert may read it and ask for
the plan, not edit it. The plan is an Excel workbook with Japanese headings, posted into the
conversation and written by `dxbot plan`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from reminders.clock import JST, FixedClock
from store import cases as case_store
from store import sessions as session_store
from store.models import AuditEntry, Engagement
from tests.conftest import ChatBot
from tests.test_cli import main_in_process
from tests.test_methods import _seed, open_case
from tests.test_reminder_pass import person

CASE = "SAI-2026-0001"
TRACK = "県職員と連携した長期伴走支援"
RECORD = (
    f"/dx engage {CASE} テーマ=電子申請の拡大 目標=子育て関係の10手続をオンライン化する "
    "範囲=子育て支援課 成果物=導入計画書、操作手順書 回数=１０回 開始=2027年1月12日"
)
FORBIDDEN = "申し訳ありませんが、市町村職員の権限ではこの操作はできません。"
PLAN_HEADINGS = [
    "事業名",
    "市町村",
    "支援区分",
    "案件番号",
    "テーマ",
    "取組目標",
    "支援範囲",
    "成果物",
    "予定回数",
    "開始日",
    "現在の段階",
]


async def engagement(bot: ChatBot, case_no: str = CASE) -> Engagement | None:
    services: Any = bot.services
    async with services.db.transaction() as s:
        case = await case_store.get_by_no(s, case_no)
        assert case is not None
        return await s.scalar(select(Engagement).where(Engagement.case_id == case.id))


async def hold_a_session(bot: ChatBot) -> None:
    """A 2-hour on-site session of expert1 on Tue 2026-11-10 14:00, held (ended before now)."""
    services: Any = bot.services
    expert = await person(services, "expert1")
    async with services.db.transaction() as s:
        case = await case_store.get_by_no(s, CASE)
        assert case is not None
        await session_store.create(
            s,
            program_id="saitama-2026",
            case_id=case.id,
            track_id=case.track_id,
            starts_at=dt.datetime(2026, 11, 10, 14, 0, tzinfo=JST),
            hours=2,
            method="onsite",
            place="庁舎会議室",
            report_due=dt.date(2026, 11, 17),
            municipality_codes=[case.municipality_code],
            expert_user_ids=[expert.id],
            now=dt.datetime(2026, 11, 2, 9, 0, tzinfo=JST),
        )


def files_to(bot: ChatBot, target: str) -> list[Any]:
    return [m for _, t, m in bot.sender.sent if t == target and m.files]


# --- recording and editing -----------------------------------------------------------------------


async def test_staff_record_an_engagement_and_edit_only_what_they_name(
    bot: ChatBot, clock: FixedClock
) -> None:
    await open_case(bot, "bansou")

    (reply,) = await bot.say("staff1", RECORD)

    assert reply.text == "\n".join(
        [
            f"{CASE}の支援計画を記録しました。",
            f"【{CASE} 支援計画】さいたま市／{TRACK}",
            "・テーマ: 電子申請の拡大",
            "・取組目標: 子育て関係の10手続をオンライン化する（2026年11月16日(月)設定）",
            "・支援範囲: 子育て支援課",
            "・成果物: 導入計画書、操作手順書",
            "・予定回数: 10回（実施済み0回）",
            "・開始日: 2027年1月12日(火)",
            "・現在の段階: 未設定",
            f"記録・変更は「/dx engage {CASE} 目標=…」のように項目を指定して送ってください。"
            f"支援計画書（Excel）は「/dx plan {CASE}」で作成します。",
        ]
    )
    row = await engagement(bot)
    assert row is not None
    assert (row.track_id, row.municipality_code, row.planned_sessions) == ("bansou", "111007", 10)
    assert row.start_on == dt.date(2027, 1, 12)
    assert row.goal_set_at == dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST)

    # A week later, English keys, two fields: the others stay as they were.
    clock.set(dt.datetime(2026, 11, 24, 9, 30, tzinfo=JST))
    (reply,) = await bot.say("staff1", f"/dx engage {CASE} sessions=12 scope=子育て支援課と市民課")
    assert reply.text.startswith(f"{CASE}の支援計画を更新しました。")
    row = await engagement(bot)
    assert row is not None
    assert (row.theme, row.goal, row.scope, row.deliverables, row.planned_sessions) == (
        "電子申請の拡大",
        "子育て関係の10手続をオンライン化する",
        "子育て支援課と市民課",
        "導入計画書、操作手順書",
        12,
    )
    # Rewording the goal keeps the day it was set; a month-day start is the term's 12/1.
    await bot.say(
        "staff1", f"/dx engage {CASE} goal=子育て関係の12手続をオンライン化する start=12/1"
    )
    row = await engagement(bot)
    assert row is not None
    assert row.goal == "子育て関係の12手続をオンライン化する"
    assert row.goal_set_at == dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST)
    assert row.start_on == dt.date(2026, 12, 1)
    # An empty value clears the field; a cleared goal has no date, a new one today's.
    await bot.say("staff1", f"/dx engage {CASE} 目標=")
    row = await engagement(bot)
    assert row is not None and (row.goal, row.goal_set_at) == ("", None)
    await bot.say("staff1", f"/dx engage {CASE} 取組目標＝申請の半数をオンラインで受け付ける")
    row = await engagement(bot)
    assert row is not None
    assert row.goal_set_at == dt.datetime(2026, 11, 24, 9, 30, tzinfo=JST)

    services: Any = bot.services
    async with services.db.transaction() as s:
        actions = (
            await s.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.object_id == CASE, AuditEntry.action.startswith("engagement_")
                )
            )
        ).all()
    assert list(actions) == ["engagement_created"] + ["engagement_updated"] * 4


async def test_officers_and_the_cases_expert_may_read_but_not_edit(bot: ChatBot) -> None:
    await open_case(bot, "bansou")
    await bot.say("staff1", RECORD)

    (refused,) = await bot.say("officer1", f"/dx engage {CASE} 目標=自分で書き換えたい")
    assert refused.text == FORBIDDEN
    row = await engagement(bot)
    assert row is not None and row.goal == "子育て関係の10手続をオンライン化する"

    (view,) = await bot.say("officer1", f"/dx engage {CASE}")
    assert view.text.startswith(f"【{CASE} 支援計画】さいたま市／{TRACK}\n・テーマ: 電子申請の拡大")
    assert view.text.endswith(f"支援計画書（Excel）は「/dx plan {CASE}」でお送りします。")
    (view,) = await bot.say("expert1", f"/dx engage {CASE}")  # the case's decided expert
    assert "・成果物: 導入計画書、操作手順書" in view.text
    (refused,) = await bot.say("expert1", f"/dx engage {CASE} 回数=3")
    assert refused.text == "申し訳ありませんが、専門人材の権限ではこの操作はできません。"
    # Another municipality's officer and an expert not on the case do not learn it exists.
    for other in ("officer2", "expert2"):
        (hidden,) = await bot.say(other, f"/dx engage {CASE}")
        assert hidden.text == f"案件「{CASE}」は見つかりませんでした。番号をご確認ください。"


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        (
            "/dx engage SAI-2026-0099 目標=x",
            "案件「SAI-2026-0099」は見つかりませんでした。番号をご確認ください。",
        ),
        (
            f"/dx engage {CASE} 回数=たくさん",
            "予定回数「たくさん」を数として読み取れませんでした。1から500までの数で指定してください"
            "（例: 回数=10）。",
        ),
        (
            f"/dx engage {CASE} 開始=そのうち",
            "開始日「そのうち」を日付として読み取れませんでした。"
            "「開始=2027-01-12」や「開始=1月12日」の形で指定してください。",
        ),
        (
            f"/dx engage {CASE} 開始=2027-04-01",
            "2027年4月1日(木)は事業の実施期間外のため登録できません。"
            "支援は2026年4月1日(水)から2027年3月19日(金)までの日付で指定してください。",
        ),
        (
            f"/dx engage {CASE} 目標=a 目標=b",
            "「目標」が2回指定されています。項目ごとに1回だけ指定してください。",
        ),
        (f"/dx engage {CASE} よろしく 目標=a", None),
        ("/dx engage", None),
    ],
)
async def test_polite_refusals(bot: ChatBot, text: str, answer: str | None) -> None:
    await open_case(bot, "bansou")
    (reply,) = await bot.say("staff1", text)
    if answer is None:  # the usage
        assert reply.text.startswith("支援計画の記録は「/dx engage 案件番号 テーマ=… 目標=…")
    else:
        assert reply.text == answer
    assert await engagement(bot) is None


async def test_a_track_without_engagements_and_a_second_engagement_are_refused(
    bot: ChatBot,
) -> None:
    await open_case(bot, "soudan")  # SAI-2026-0001, the consultation desk
    (reply,) = await bot.say("staff1", f"/dx engage {CASE} 目標=x")
    assert reply.text == (
        f"{CASE}は「DXよろず相談窓口」の案件のため、支援計画は記録できません。"
        f"支援計画を記録できるのは{TRACK}の案件です（区分の変更は「/dx track 案件番号 区分ID」）。"
    )
    (reply,) = await bot.say("staff1", f"/dx plan {CASE}")
    assert reply.text.startswith(f"{CASE}は「DXよろず相談窓口」の案件のため")

    await open_case(bot, "bansou")  # SAI-2026-0002, the same municipality on bansou
    await bot.say("staff1", "/dx engage SAI-2026-0002 テーマ=電子申請")
    await open_case(bot, "bansou")  # SAI-2026-0003: さいたま市 is engaged on 0002 already
    (reply,) = await bot.say("staff1", "/dx engage SAI-2026-0003 テーマ=窓口")
    assert reply.text == (
        f"さいたま市の{TRACK}の支援計画は、すでにSAI-2026-0002に記録されています。"
        "「/dx engage SAI-2026-0002」で確認・変更してください。"
    )


# --- the plan document ---------------------------------------------------------------------------


def _sheet(content: bytes) -> list[tuple[Any, ...]]:
    ws = load_workbook(io.BytesIO(content)).active
    assert ws is not None and ws.title == "支援計画書"
    return [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]


async def test_the_plan_is_posted_as_an_xlsx_with_japanese_headings(bot: ChatBot) -> None:
    await open_case(bot, "bansou")
    await hold_a_session(bot)
    (reply,) = await bot.say("staff1", f"/dx plan {CASE}")
    assert (
        reply.text
        == f"{CASE}の支援計画はまだ記録されていません。「/dx engage {CASE} テーマ=… 目標=…」で記録してから作成してください。"
    )
    await bot.say("staff1", RECORD)
    await bot.say("staff1", f"/dx engage {CASE} 成果物=@SUM(A1)")  # a formula-looking value

    (reply,) = await bot.say("officer1", f"/dx plan {CASE}")  # an officer of the municipality

    assert (
        reply.text == f"{CASE}の実施プラン（Excel）を作成しています。できあがり次第お送りします。"
    )
    (posted,) = files_to(bot, "officer1")
    assert posted.text == f"{CASE}の実施プラン（さいたま市）をお送りします。"
    f = posted.files[0]
    assert f.name == f"{CASE}_plan.xlsx"
    rows = _sheet(f.content)
    assert rows[0][0] == "実施プラン（さいたま市）"
    assert rows[1][0] == "作成日: 2026年11月16日(月)\u3000埼玉県"
    record = {r[0]: r[1] for r in rows[2:13]}
    assert list(record) == PLAN_HEADINGS
    assert record["市町村"] == "さいたま市" and record["支援区分"] == TRACK
    assert record["テーマ"] == "電子申請の拡大"
    assert record["取組目標"] == "子育て関係の10手続をオンライン化する（2026年11月16日(月)設定）"
    assert record["成果物"] == "@SUM(A1)"  # text, not a formula
    assert record["予定回数"] == "10回" and record["開始日"] == "2027年1月12日(火)"
    assert record["現在の段階"] == "未設定"
    assert rows[13][0] == "これまでの支援"
    assert rows[14] == ("回", "実施日", "方法", "専門人材", "時間")
    assert rows[15] == (1, "2026年11月10日(火)", "訪問", "田中 誠", 2)
    assert rows[16][0] == "計 1回・2時間"
    ws = load_workbook(io.BytesIO(f.content)).active
    assert ws is not None
    formula_cell = next(c for r in ws.iter_rows() for c in r if c.value == "@SUM(A1)")
    assert formula_cell.data_type == "s" and formula_cell.quotePrefix

    (refused,) = await bot.say("officer2", f"/dx plan {CASE}")
    assert refused.text == f"案件「{CASE}」は見つかりませんでした。番号をご確認ください。"
    assert not files_to(bot, "officer2")


# --- dxbot plan ------------------------------------------------------------------------------------


def test_dxbot_plan_writes_the_workbook_and_refuses_an_unknown_case(
    db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _seed(db_url)  # SAI-2026-0001 on soudan (no engagements) for さいたま市

    async def record() -> None:
        from bot.app import build_services
        from bot.core.config import Settings
        from tests.conftest import RecordingSender

        settings = Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM="saitama-2026")  # type: ignore[call-arg]
        services = build_services(
            settings, clock=FixedClock(dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST))
        )
        try:
            bot = ChatBot(services, RecordingSender())
            await open_case(bot, "bansou")  # SAI-2026-0002
            await bot.say(
                "staff1", "/dx engage SAI-2026-0002 テーマ=窓口改革 目標=書かない窓口を始める"
            )
        finally:
            await services.db.dispose()

    asyncio.run(record())
    env = {"DATABASE_URL": db_url, "DXBOT_PROGRAM": "saitama-2026"}
    now = ("--now", "2026-11-16T10:00")
    out = tmp_path / "plans" / "p.xlsx"

    run = main_in_process(("plan", "SAI-2026-0002", "--out", str(out), *now), capsys, **env)

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"Wrote the plan of SAI-2026-0002 ({TRACK}) to {out}."
    record_rows = {r[0]: r[1] for r in _sheet(out.read_bytes())[2:13]}
    assert list(record_rows) == PLAN_HEADINGS
    assert (record_rows["テーマ"], record_rows["取組目標"]) == (
        "窓口改革",
        "書かない窓口を始める（2026年11月16日(月)設定）",
    )

    unknown = main_in_process(("plan", "SAI-2026-0999", *now), capsys, **env)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == (
        "error: Case SAI-2026-0999 does not exist in program saitama-2026; "
        "see `dxbot export cases --format csv` for the case numbers."
    )
    desk = main_in_process(("plan", "SAI-2026-0001", *now), capsys, **env)
    assert desk.returncode == 1
    assert "is in the track soudan, which runs no engagements" in desk.stderr
    bad = main_in_process(("plan", "SAI-2026-0002", "--out", "p.pdf", *now), capsys, **env)
    assert bad.returncode == 2 and "--out must name a .xlsx file" in bad.stderr
