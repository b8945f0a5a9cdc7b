"""Whole journeys through the console adapter's script mode: an officer opens a consultation,
staff match it, the prefecture approves, staff schedule the session — and everyone involved
hears of it. Once as an operator runs it (`dxbot seed --demo`, then `dxbot chat --script` in a
subprocess on a fresh SQLite file), and once in-process on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from bot.adapters.console import ConsoleAdapter
from store import cases as case_store
from store.models import SupportSession
from tests.conftest import ChatBot

NOW = "2026-11-16T10:00:00+09:00"  # Monday, 10:00 JST: the `clock` fixture's now
OPEN = [
    "# 市町村職員が相談を申し込む",
    "officer1: 電子契約の共同調達について相談したいです。オンラインで来週火曜の午後希望",
    "officer1: わからない",
    "officer1: 申し込む",
]


def _follow(case_no: str) -> list[str]:
    return [
        "# 事務局がマッチング、県が承認、事務局が日程を登録",
        f"staff1: /dx match {case_no}",
        "staff1: 1",
        f"pref1: /dx approve {case_no}",
        f"staff1: /dx schedule {case_no} 2026-12-05 14:00 1 オンライン Teams",  # a Saturday
        f"staff1: /dx schedule {case_no} 2026-12-08 14:00 1 オンライン Teams",
    ]


def _assert_in_order(transcript: str, expected: Sequence[str]) -> None:
    """Each expected piece occurs, after the previous one."""
    at = 0
    for piece in expected:
        found = transcript.find(piece, at)
        assert found >= 0, f"{piece!r} missing after position {at}:\n{transcript[at:]}"
        at = found + len(piece)


def _journey_expectations(case_no: str, expert: str, expert_id: str) -> list[str]:
    return [
        "officer1> 電子契約の共同調達について相談したいです。",
        "bot> 相談の分野を番号で選んでください",
        "  15. ICT-BCP",
        "officer1> わからない",
        "bot> 以下の内容で相談を申し込みます。よろしいですか？",
        "希望日時　　: 2026年11月24日(火) 午後",
        "  1. この内容で申し込む",
        f"bot> 相談を受け付けました。案件番号は {case_no}（さいたま市）です。",
        f"[→ #staff] 【{case_no}】新しい相談を「受付」として登録しました（山田 花子）",
        f"[→ #prefecture] 【{case_no}】新しい相談を「受付」として登録しました（山田 花子）",
        f"staff1> /dx match {case_no}",
        f"bot> {case_no}の候補の専門人材です",
        f"1. {expert} — ",
        "※この事業では、選んだ人材は県の承認を経て確定します。",
        f"  1. {expert}",
        "staff1> 1",
        f"bot> {case_no}の担当に{expert}さんを選びました。県の承認をお待ちください。",
        f"[→ @officer1] 相談（{case_no}）について、事務局が専門人材との調整を始めました。",
        f"[→ #prefecture] 【承認依頼】{case_no}の派遣人材として{expert}さんが提案されました。",
        f"pref1> /dx approve {case_no}",
        f"bot> {case_no}の{expert}さんを承認しました。",
        f"[→ @{expert_id}] {case_no}の担当をお願いすることになりました。",
        f"[→ #staff] {case_no}の担当が{expert}さんに確定しました。",
        f"staff1> /dx schedule {case_no} 2026-12-05 14:00",
        "bot> 2026年12月5日(土)は土曜日のため閉庁日です。開庁日を指定してください。",
        f"staff1> /dx schedule {case_no} 2026-12-08 14:00",
        "bot> 日程を登録しました（状態: 実施予定）。",
        "日時: 2026年12月8日(火) 14:00（1時間）",
        "報告期限: 2026年12月15日(火)",
        # People's messages go out ahead of the channels' notices.
        f"[→ @{expert_id}] 支援の日程が決まりました。",
        "[→ @officer1] 貴団体が参加する支援の日程が決まりました。",
        f"[→ #staff] 【{case_no}】状態が「調整中」から「実施予定」に変わりました（佐藤 美咲）",
        f"[→ #prefecture] 【{case_no}】状態が「調整中」から「実施予定」に変わりました",
    ]


# --- as an operator runs it: the installed `dxbot`, a fresh SQLite file ----------------------------


async def _dxbot(env: dict[str, str], *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "dxbot"),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_journey_through_dxbot_chat_script(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'journey.db'}",
        "DXBOT_PROGRAM": "saitama-2026",
    }
    seeded = await _dxbot(env, "seed", "--program", "saitama-2026", "--demo", "--now", NOW)
    assert "Program saitama-2026 loaded" in seeded and "Demo data:" in seeded

    opening = tmp_path / "open.txt"
    opening.write_text("\n".join(OPEN) + "\n", encoding="utf-8")
    first = await _dxbot(env, "chat", "--script", str(opening), "--now", NOW)
    # The demo history already holds this year's first cases: the new one takes the next id.
    found = re.search(r"案件番号は (SAI-2026-\d{4})（さいたま市）", first)
    assert found is not None, first
    case_no = found.group(1)
    assert case_no != "SAI-2026-0001"

    follow = tmp_path / "follow.txt"
    follow.write_text("\n".join(_follow(case_no)) + "\n", encoding="utf-8")
    second = await _dxbot(env, "chat", "--script", str(follow), "--now", NOW)

    picked = re.search(r"^1\. (\S+ \S+) — ", second, re.MULTILINE)
    assert picked is not None, second
    expert = picked.group(1)
    assigned = re.search(rf"\[→ @(expert\d)\] {case_no}の担当をお願いすることになりました", second)
    assert assigned is not None, second
    _assert_in_order(first + second, _journey_expectations(case_no, expert, assigned.group(1)))
    assert "Traceback" not in first + second


# --- in-process, on both engines -----------------------------------------------------------------


async def _run_script(bot: ChatBot, lines: Sequence[str]) -> str:
    out = io.StringIO()
    adapter = ConsoleAdapter(bot.services, out=out)  # type: ignore[arg-type]
    assert await adapter.run_script(lines) == 0
    return out.getvalue()


async def test_journey_in_process(bot: ChatBot) -> None:
    case_no = "SAI-2026-0001"  # a fresh program: the first case of the year
    transcript = await _run_script(bot, OPEN + _follow(case_no))

    # No history: every demo expert has 0 sessions, so roster order breaks the tie.
    _assert_in_order(transcript, _journey_expectations(case_no, "田中 誠", "expert1"))
    services = bot.services
    async with services.db.transaction() as s:  # type: ignore[attr-defined]
        case = await case_store.get_by_no(s, case_no)
        assert case is not None
        assert (case.status, case.match_state) == ("scheduled", "approved")
        sessions = list(
            (await s.scalars(select(SupportSession).where(SupportSession.case_id == case.id))).all()
        )
        history = [h.to_status for h in await case_store.history(s, case.id)]
    assert len(sessions) == 1  # the refused Saturday left nothing behind
    assert history == ["received", "coordinating", "scheduled"]


async def test_joint_session_journey_with_numbered_replies(bot: ChatBot) -> None:
    """The same journey as people type it on LoGo Chat: numbers for every choice, the
    prefecture answering the approval request it received directly, a joint session."""
    case_no = "SAI-2026-0001"
    transcript = await _run_script(
        bot,
        [
            "officer1: 生成AIの利用ガイドラインを作りたいので相談したいです。訪問で12月3日の午後",
            "officer1: 2",  # 修正する
            "officer1: 6",  # 分野
            "officer1: 9,8",
            "officer1: 1",  # この内容で申し込む
            f"staff1: /dx track {case_no} haken",
            f"staff1: /dx match {case_no}",
            "staff1: 2",  # demo roster: expert4 fits both domains, expert5 one
            "pref1: 1",  # 承認する
            f"staff1: /dx schedule {case_no} 12月3日 13:30 3 訪問 さいたま市役所 +秩父市",
        ],
    )
    _assert_in_order(
        transcript,
        [
            "分野　　　　: 自治体のAIの利用促進",
            "分野　　　　: 自治体のAIの利用促進、セキュリティ対策の徹底",
            "希望する方法: 訪問",
            "希望日時　　: 2026年12月3日(木) 午後",
            f"案件番号は {case_no}（さいたま市）",
            f"bot> {case_no}の区分を「デジタル専門人材の派遣によるアドバイス支援」にしました。",
            "訪問可",
            f"bot> {case_no}の担当に小林 大輔さんを選びました。",
            "[→ @pref1] 【承認依頼】",
            "  1. 承認する",
            "pref1> 1",
            f"bot> {case_no}の小林 大輔さんを承認しました。",
            f"[→ @expert5] {case_no}の担当をお願いすることになりました。",
            "bot> 日程を登録しました（状態: 実施予定）。",
            "日時: 2026年12月3日(木) 13:30（3時間）",
            "方法: 訪問",
            "場所: さいたま市役所",
            "参加団体: さいたま市、秩父市",
            "[→ @expert5] 支援の日程が決まりました。",
            "[→ @officer1] 貴団体が参加する支援の日程が決まりました。",
        ],
    )
    # The joint municipality's officer (秩父市) is told too.
    assert "[→ @officer2] 貴団体が参加する支援の日程が決まりました。" in transcript
    assert "参加団体: さいたま市、秩父市" in transcript.split("[→ @officer2]")[1]
