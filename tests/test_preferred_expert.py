"""The expert a municipality names at intake (Miyazaki ② 市町村が人材を指定; Saitama §6(3)),
on SQLite and PostgreSQL.

At the summary, 「修正する」 → 「希望する専門人材」 offers the roster the officer may see (only
listed experts), answered by number or by name in any width or spacing; a name in the first
message is read too. Matching then puts that expert first when the rules allow them, and says
why not otherwise. Rankings below are worked out by hand from the roster in this file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from sqlalchemy import select

from bot.core.messages import Outbound
from reminders.clock import JST
from store import cases as case_store
from store import users
from store.db import Database
from store.models import Case, User
from tests.conftest import ChatBot

SEC, AI, TELE = "セキュリティ対策の徹底", "自治体のAIの利用促進", "テレワークの推進"
FIRST = "電子契約の共同調達について相談したいです。オンラインで来週火曜の午後希望"

# (domains, can visit, consented to be listed); expert7 and expert8 are no longer registered.
ROSTER: dict[str, tuple[list[str], bool, bool]] = {
    "expert1": ([TELE], True, True),  # 田中 誠
    "expert2": ([SEC, AI], True, True),  # 伊藤 由美
    "expert3": ([SEC, AI], False, True),  # 渡辺 拓也: cannot visit
    "expert4": ([SEC, AI], True, False),  # 中村 京子: not listed
    "expert5": ([AI], True, True),  # 小林 大輔
    "expert6": ([SEC], True, True),  # 加藤 直美
}
ASK = (
    "ご希望の専門人材を、番号かお名前でお答えください。"
    "指定しない場合は「指定しない」とお答えください。"
)
# What an officer may choose from: the listed experts by chat id, then 指定しない.
OFFICER_CHOICES = ["田中 誠", "伊藤 由美", "渡辺 拓也", "小林 大輔", "加藤 直美", "指定しない"]


def _db(bot: ChatBot) -> Database:
    return bot.services.db  # type: ignore[attr-defined,no-any-return]


async def _ids(db: Database) -> dict[str, int]:
    async with db.transaction() as s:
        return {u.platform_id: u.id for u in (await s.scalars(select(User))).all()}


@pytest.fixture
async def saitama(bot: ChatBot) -> ChatBot:
    async with _db(bot).transaction() as s:
        by_pid = {u.platform_id: u for u in (await s.scalars(select(User))).all()}
        for pid, (domains, onsite, consent) in ROSTER.items():
            await users.upsert_expert_profile(
                s,
                by_pid[pid],
                domains=domains,
                qualifications=[],
                onsite=onsite,
                region="県内",
                consent_listed=consent,
            )
        for pid in ("expert7", "expert8"):
            await users.remove(s, "console", pid)
    return bot


async def _cases(db: Database) -> list[Case]:
    async with db.transaction() as s:
        return list((await s.scalars(select(Case).order_by(Case.id))).all())


def _one(replies: Sequence[Outbound]) -> Outbound:
    assert len(replies) == 1, [r.text for r in replies]
    return replies[0]


# --- naming the expert at intake ---------------------------------------------------------------


async def test_officer_names_an_expert_from_the_summary(saitama: ChatBot) -> None:
    await saitama.say("officer1", FIRST)
    summary = _one(await saitama.say("officer1", "わからない"))
    assert "希望する専門人材" not in dict(summary.fields)  # optional, not shown until named

    menu = _one(await saitama.say("officer1", "修正する"))
    assert [c.label for c in menu.choices][-1] == "希望する専門人材"
    asked = _one(await saitama.say("officer1", "9"))
    assert asked.text == ASK
    assert [c.label for c in asked.choices] == OFFICER_CHOICES

    # Full-width space and さん: still 田中 誠.
    summary = _one(await saitama.say("officer1", "田中　誠さん"))
    assert dict(summary.fields)["希望する専門人材"] == "田中 誠"
    _one(await saitama.say("officer1", "申し込む"))
    (case,) = await _cases(_db(saitama))
    assert case.preferred_expert_user_id == (await _ids(_db(saitama)))["expert1"]


async def test_by_number_by_surname_and_cleared(saitama: ChatBot) -> None:
    await saitama.say("officer1", FIRST)
    await saitama.say("officer1", "わからない")
    await saitama.say("officer1", "修正する")
    await saitama.say("officer1", "9")
    summary = _one(await saitama.say("officer1", "２"))
    assert dict(summary.fields)["希望する専門人材"] == "伊藤 由美"

    await saitama.say("officer1", "修正する")
    await saitama.say("officer1", "希望する専門人材")
    summary = _one(await saitama.say("officer1", "小林"))  # a unique part of the name
    assert dict(summary.fields)["希望する専門人材"] == "小林 大輔"

    await saitama.say("officer1", "修正する")
    await saitama.say("officer1", "9")
    summary = _one(await saitama.say("officer1", "指定しない"))
    assert "希望する専門人材" not in dict(summary.fields)
    await saitama.say("officer1", "申し込む")
    (case,) = await _cases(_db(saitama))
    assert case.preferred_expert_user_id is None


async def test_an_unlisted_or_unknown_name_is_asked_again(saitama: ChatBot) -> None:
    await saitama.say("officer1", FIRST)
    await saitama.say("officer1", "わからない")
    await saitama.say("officer1", "修正する")
    await saitama.say("officer1", "9")
    # 中村 京子 did not consent to be listed, so an officer cannot name her.
    replies = await saitama.say("officer1", "中村 京子")
    assert [r.text for r in replies] == [
        "「中村 京子」というお名前の専門人材は一覧にいません。番号か、一覧のお名前でお答えください。",
        ASK,
    ]
    # 「藤」 is part of 伊藤 由美 and of 加藤 直美.
    replies = await saitama.say("officer1", "藤さん")
    assert [r.text for r in replies] == [
        "「藤さん」に当てはまる方が複数います（伊藤 由美、加藤 直美）。フルネームか番号でお答えください。",
        ASK,
    ]
    assert await _cases(_db(saitama)) == []


async def test_a_name_in_the_first_message_is_read(saitama: ChatBot) -> None:
    await saitama.say("officer1", "伊藤由美さんに" + FIRST)
    summary = _one(await saitama.say("officer1", "わからない"))
    assert dict(summary.fields)["希望する専門人材"] == "伊藤 由美"


# --- matching ranks the named expert first, or says why not ---------------------------------


async def _case_with_preference(bot: ChatBot, method: str, preferred: str) -> str:
    ids = await _ids(_db(bot))
    async with _db(bot).transaction() as s:
        case = await case_store.create(
            s,
            program_id="saitama-2026",
            prefix="SAI",
            year=2026,
            track_id="soudan",
            municipality_code="111007",
            now=dt.datetime(2026, 11, 16, 9, tzinfo=JST),
            requester_user_id=ids["officer1"],
            domains=[SEC, AI],
            description="生成AIの利用ガイドラインとセキュリティについて相談したい",
            preferred_method=method,
            preferred_dates=[],
            preferred_expert_user_id=ids[preferred],
        )
        return case.case_no


HEADER = "SAI-2026-0001の候補の専門人材です（分野の一致・訪問可否・空き・派遣回数の少なさの順）:"
ITO = "伊藤 由美 — 分野一致: セキュリティ対策の徹底、自治体のAIの利用促進 / 訪問可 / 今年度の担当0回（最少）"
KOBAYASHI = "小林 大輔 — 分野一致: 自治体のAIの利用促進 / 訪問可 / 今年度の担当0回（最少）"
KATO = "加藤 直美 — 分野一致: セキュリティ対策の徹底 / 訪問可 / 今年度の担当0回（最少）"
APPROVER = "※この事業では、選んだ人材は県の承認を経て確定します。"


async def test_the_named_expert_comes_first_when_eligible(saitama: ChatBot) -> None:
    # Without the preference the order is 伊藤 (two domains), 小林, 加藤 (one each, roster
    # order); 田中 fits no domain and would be fourth, outside the three proposals.
    case_no = await _case_with_preference(saitama, "onsite", "expert1")
    proposal = _one(await saitama.say("staff1", f"/dx match {case_no}"))
    assert proposal.text.splitlines() == [
        HEADER,
        "1. 田中 誠 — ご希望の専門人材 / 分野一致なし / 訪問可 / 今年度の担当0回（最少）",
        "2. " + ITO,
        "3. " + KOBAYASHI,
        APPROVER,
    ]
    assert [c.label for c in proposal.choices] == ["田中 誠", "伊藤 由美", "小林 大輔"]


async def test_an_expert_who_cannot_visit_is_not_first_and_the_reason_is_given(
    saitama: ChatBot,
) -> None:
    case_no = await _case_with_preference(saitama, "onsite", "expert3")
    proposal = _one(await saitama.say("staff1", f"/dx match {case_no}"))
    assert proposal.text.splitlines() == [
        HEADER,
        "1. " + ITO,
        "2. " + KOBAYASHI,
        "3. " + KATO,
        "ご希望の渡辺 拓也さんは訪問に対応していないため、候補の先頭にしていません。",
        APPROVER,
    ]


async def test_an_unlisted_expert_is_not_first_and_the_reason_is_given(saitama: ChatBot) -> None:
    case_no = await _case_with_preference(saitama, "online", "expert4")
    lines = _one(await saitama.say("staff1", f"/dx match {case_no}")).text.splitlines()
    # Online: 渡辺 may be proposed too (two domains, roster order after 伊藤).
    assert lines[1:5] == [
        "1. " + ITO.replace(" / 訪問可", ""),
        "2. 渡辺 拓也 — 分野一致: セキュリティ対策の徹底、自治体のAIの利用促進 / 今年度の担当0回（最少）",
        "3. " + KOBAYASHI.replace(" / 訪問可", ""),
        "ご希望の中村 京子さんは名簿への掲載に同意していないため、候補の先頭にしていません。",
    ]


async def test_an_online_case_puts_an_expert_who_cannot_visit_first(saitama: ChatBot) -> None:
    case_no = await _case_with_preference(saitama, "online", "expert3")
    lines = _one(await saitama.say("staff1", f"/dx match {case_no}")).text.splitlines()
    assert lines[1:4] == [
        "1. 渡辺 拓也 — ご希望の専門人材 / 分野一致: セキュリティ対策の徹底、自治体のAIの利用促進"
        " / 今年度の担当0回（最少）",
        "2. " + ITO.replace(" / 訪問可", ""),
        "3. " + KOBAYASHI.replace(" / 訪問可", ""),
    ]
