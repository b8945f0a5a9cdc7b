"""Matching (proposals, prefecture approval) and scheduling, in the chat and with
`dxbot sessions add`, on SQLite and PostgreSQL.

The expert roster is written by each test (domains, on-site ability, past sessions, bookings),
so every expected ranking below is worked out from the roster in the test, not from demo data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.core.catalog import t
from bot.core.messages import Outbound
from reminders.clock import JST
from store import cases as case_store
from store import sessions as session_store
from store import users
from store.db import Database
from store.models import Base, Case, SessionMunicipality, SupportSession, User
from tests.conftest import ChatBot

SAITAMA, KAWAGOE, KAWAGUCHI, CHICHIBU = "111007", "112011", "112038", "112071"
SEC, AI, TELE = "セキュリティ対策の徹底", "自治体のAIの利用促進", "テレワークの推進"
HAKEN = "デジタル専門人材の派遣によるアドバイス支援"
NAMES = {
    "expert1": "田中 誠",
    "expert2": "伊藤 由美",
    "expert3": "渡辺 拓也",
    "expert4": "中村 京子",
    "expert5": "小林 大輔",
    "expert6": "加藤 直美",
    "expert7": "吉田 剛",
    "expert8": "山本 彩",
}

# The roster for the ranking tests: (domains, can visit, sessions already held this year).
ROSTER: dict[str, tuple[list[str], bool, int]] = {
    "expert1": ([SEC, AI], True, 2),
    "expert2": ([SEC, AI], True, 0),  # plus the booking below, so 1 session in all
    "expert3": ([SEC, AI], False, 1),
    "expert4": ([SEC], True, 0),
    "expert5": ([SEC, AI], True, 1),
    "expert6": ([TELE], True, 0),
    "expert7": ([AI], True, 0),
    "expert8": ([SEC, AI], False, 0),
}
QUALIFICATIONS = {"expert5": ["中小企業診断士"]}
PREFERRED = "2026年11月24日(火) 午後"  # 13:00-17:00
NOW_ISO = "2026-11-16T10:00:00+09:00"  # the `clock` fixture's now, for the CLI's --now
BOOKED = {"expert2": dt.datetime(2026, 11, 24, 14, 0, tzinfo=JST)}  # busy that afternoon


# --- helpers -------------------------------------------------------------------------------------


def _db(bot: ChatBot) -> Database:
    return bot.services.db  # type: ignore[attr-defined,no-any-return]


async def _counts(db: Database) -> dict[str, int]:
    out: dict[str, int] = {}
    async with db.transaction() as s:
        for table in Base.metadata.sorted_tables:
            out[table.name] = int(await s.scalar(select(func.count()).select_from(table)) or 0)
    out.pop("processed_events")  # every inbound event is claimed, refused or not
    return out


async def _ids(db: Database) -> dict[str, int]:
    async with db.transaction() as s:
        return {u.platform_id: u.id for u in (await s.scalars(select(User))).all()}


async def _case(db: Database, case_no: str) -> Case:
    async with db.transaction() as s:
        case = await case_store.get_by_no(s, case_no)
    assert case is not None
    return case


async def _sessions(db: Database, case_no: str) -> list[SupportSession]:
    case = await _case(db, case_no)
    async with db.transaction() as s:
        return list(
            (
                await s.scalars(
                    select(SupportSession)
                    .where(SupportSession.case_id == case.id)
                    .order_by(SupportSession.id)
                )
            ).all()
        )


async def _roster(bot: ChatBot, roster: dict[str, tuple[list[str], bool, int]]) -> None:
    """Write each expert's profile and give them their past sessions (October, so they count
    toward fairness but never clash with November dates)."""
    db = _db(bot)
    ids = await _ids(db)
    async with db.transaction() as s:
        history = await case_store.create(
            s,
            program_id="saitama-2026",
            prefix="SAI",
            year=2026,
            track_id="soudan",
            municipality_code=KAWAGUCHI,
            now=dt.datetime(2026, 10, 1, 9, tzinfo=JST),
            description="過去の相談",
        )
        for pid, (domains, onsite, held) in roster.items():
            user = await s.get(User, ids[pid])
            assert user is not None
            await users.upsert_expert_profile(
                s,
                user,
                domains=domains,
                qualifications=QUALIFICATIONS.get(pid, []),
                onsite=onsite,
                region="県内",
                consent_listed=True,
            )
            for k in range(held):
                await _session(s, history, [ids[pid]], dt.datetime(2026, 10, 5 + k, 10, tzinfo=JST))


async def _session(
    s: Any,
    case: Case,
    experts: Sequence[int],
    start: dt.datetime,
    *,
    hours: float = 2,
    track: str = "soudan",
    municipalities: Sequence[str] = (),
) -> SupportSession:
    return await session_store.create(
        s,
        program_id="saitama-2026",
        case_id=case.id,
        track_id=track,
        starts_at=start,
        hours=hours,
        method="online",
        place="",
        report_due=start.date() + dt.timedelta(days=7),
        municipality_codes=list(municipalities) or [case.municipality_code],
        expert_user_ids=list(experts),
        now=start,
    )


async def _book(bot: ChatBot, bookings: dict[str, dt.datetime], hours: float = 2) -> None:
    db = _db(bot)
    ids = await _ids(db)
    async with db.transaction() as s:
        other = await case_store.create(
            s,
            program_id="saitama-2026",
            prefix="SAI",
            year=2026,
            track_id="soudan",
            municipality_code=KAWAGUCHI,
            now=dt.datetime(2026, 11, 2, 9, tzinfo=JST),
            description="別件",
        )
        for pid, start in bookings.items():
            await _session(s, other, [ids[pid]], start, hours=hours)


async def _new_case(
    bot: ChatBot,
    *,
    method: str = "onsite",
    domains: Sequence[str] = (SEC, AI),
    dates: Sequence[str] = (PREFERRED,),
    municipality: str = SAITAMA,
    track: str = "soudan",
    expert: str | None = None,
) -> str:
    """A case as intake leaves it (intake itself is tested in test_intake.py)."""
    db = _db(bot)
    ids = await _ids(db)
    async with db.transaction() as s:
        case = await case_store.create(
            s,
            program_id="saitama-2026",
            prefix="SAI",
            year=2026,
            track_id=track,
            municipality_code=municipality,
            now=dt.datetime(2026, 11, 16, 9, tzinfo=JST),
            requester_user_id=ids["officer1"] if municipality == SAITAMA else None,
            domains=list(domains),
            description="生成AIの利用ガイドラインとセキュリティについて相談したい",
            preferred_method=method,
            preferred_dates=list(dates),
            actor_label="山田 花子",
        )
        if expert is not None:
            case.approved_expert_user_id = ids[expert]
            case.match_state = "approved"
        return case.case_no


def _texts(replies: Sequence[Outbound]) -> list[str]:
    return [r.text for r in replies]


async def _refused(bot: ChatBot, user: str, text: str, expected: str) -> None:
    """The answer is exactly ``expected`` and nothing at all was written."""
    before = await _counts(_db(bot))
    sent = len(bot.sender.sent)
    replies = await bot.say(user, text)
    assert _texts(replies) == [expected], text
    assert await _counts(_db(bot)) == before, text
    assert len(bot.sender.sent) == sent, text


def _proposal_lines(replies: Sequence[Outbound]) -> list[str]:
    (proposal,) = replies
    return proposal.text.splitlines()[1:4]


# --- proposals -------------------------------------------------------------------------------------


async def test_onsite_case_ranks_by_domain_availability_and_fairness(bot: ChatBot) -> None:
    await _roster(bot, ROSTER)
    await _book(bot, BOOKED)
    case_no = await _new_case(bot, method="onsite")

    replies = await bot.say("staff1", f"/dx match {case_no}")

    # Who may visit: everyone but expert3 and expert8. Best domain fit (both domains):
    # expert1, expert2, expert5. Of those, free on 11/24 afternoon: expert5 (1 session) before
    # expert1 (2 sessions, fewest first); expert2 has fewer sessions but is booked that day.
    ids = await _ids(_db(bot))
    (proposal,) = replies
    assert [c.value for c in proposal.choices] == [
        f"{case_no}:{ids['expert5']}",
        f"{case_no}:{ids['expert1']}",
        f"{case_no}:{ids['expert2']}",
    ]
    assert [c.label for c in proposal.choices] == ["小林 大輔", "田中 誠", "伊藤 由美"]
    fit = t("reason_domains", domains=f"{SEC}、{AI}")
    onsite, free, busy = t("reason_onsite"), t("reason_free"), t("reason_busy")
    assert proposal.text.splitlines()[0] == t("proposal_header", case_no=case_no)
    assert _proposal_lines(replies) == [
        t(
            "proposal_line",
            rank=1,
            name="小林 大輔",
            reasons=" / ".join([fit, onsite, free, t("reason_load", n=1), "中小企業診断士"]),
        ),
        t(
            "proposal_line",
            rank=2,
            name="田中 誠",
            reasons=" / ".join([fit, onsite, free, t("reason_load", n=2)]),
        ),
        t(
            "proposal_line",
            rank=3,
            name="伊藤 由美",
            reasons=" / ".join([fit, onsite, busy, t("reason_load", n=1)]),
        ),
    ]
    assert proposal.text.endswith(t("approver_prefecture"))  # Saitama: the prefecture approves
    assert "渡辺 拓也" not in proposal.text and "山本 彩" not in proposal.text


async def test_online_case_also_offers_experts_who_cannot_visit(bot: ChatBot) -> None:
    await _roster(bot, ROSTER)
    await _book(bot, BOOKED)
    case_no = await _new_case(bot, method="online")

    (proposal,) = await bot.say("staff1", f"/dx match {case_no}")

    # Both domains and free: expert8 (0 sessions), then expert3 and expert5 (1 each; roster
    # order breaks the tie), ahead of expert1 (2) and the booked expert2.
    assert [c.label for c in proposal.choices] == ["山本 彩", "渡辺 拓也", "小林 大輔"]
    first = proposal.text.splitlines()[1]
    assert t("reason_onsite") not in first
    assert t("reason_load", n=0) + t("reason_fewest") in first


async def test_fewest_sessions_first_when_all_else_is_equal(bot: ChatBot) -> None:
    held = {"expert1": 3, "expert2": 1, "expert3": 0, "expert4": 2, "expert5": 4}
    await _roster(bot, {pid: ([SEC], True, n) for pid, n in held.items()})
    await _roster(bot, {pid: ([TELE], True, 0) for pid in ("expert6", "expert7", "expert8")})
    case_no = await _new_case(bot, method="onsite", domains=[SEC], dates=[])

    (proposal,) = await bot.say("staff1", f"/dx match {case_no}")

    assert [c.label for c in proposal.choices] == ["渡辺 拓也", "伊藤 由美", "中村 京子"]
    lines = proposal.text.splitlines()[1:4]
    assert t("reason_load", n=0) + t("reason_fewest") in lines[0]
    assert t("reason_load", n=1) in lines[1] and t("reason_fewest") not in lines[1]
    assert all(t("reason_free") not in line for line in lines)  # no dates: not a criterion


async def test_no_candidate_for_an_onsite_case_when_nobody_visits(bot: ChatBot) -> None:
    await _roster(bot, {pid: ([SEC], False, 0) for pid in NAMES})
    case_no = await _new_case(bot, method="onsite")
    await _refused(bot, "staff1", f"/dx match {case_no}", t("no_candidates", case_no=case_no))


async def test_match_refusals_write_nothing(bot: ChatBot) -> None:
    case_no = await _new_case(bot)
    withdrawn = await _new_case(bot)
    async with _db(bot).transaction() as s:
        case = await case_store.get_by_no(s, withdrawn)
        assert case is not None
        case.status = "withdrawn"
    await _refused(
        bot, "staff1", "/dx match SAI-2026-9999", t("case_not_found", case_no="SAI-2026-9999")
    )
    await _refused(
        bot, "staff1", f"/dx match {withdrawn}", t("case_closed_for_matching", case_no=withdrawn)
    )
    await _refused(bot, "officer1", f"/dx match {case_no}", t("forbidden", role="市町村職員"))
    await _refused(bot, "pref1", f"/dx match {case_no}", t("forbidden", role="県職員"))
    await _refused(bot, "staff1", f"/dx pick {case_no} nobody", t("expert_unknown", text="nobody"))
    await _refused(
        bot, "staff1", f"/dx pick {case_no} officer2", t("expert_unknown", text="officer2")
    )


# --- choosing and approving ---------------------------------------------------------------------


async def test_staff_pick_then_prefecture_approves(bot: ChatBot) -> None:
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)
    db = _db(bot)
    ids = await _ids(db)
    await bot.say("staff1", f"/dx match {case_no}")

    picked = await bot.say("staff1", "1")  # the numbered reply picks the first candidate

    # expert2: both domains, can visit, no session yet.

    assert _texts(picked) == [t("awaiting_approval", case_no=case_no, name="伊藤 由美")]
    case = await _case(db, case_no)
    assert (case.status, case.match_state) == ("coordinating", "proposed")
    assert (case.proposed_expert_user_id, case.approved_expert_user_id) == (ids["expert2"], None)
    request = t(
        "approval_request",
        case_no=case_no,
        name="伊藤 由美",
        desc="生成AIの利用ガイドラインとセキュリティについて相談したい",
    )
    assert request in bot.sender.texts("prefecture")
    assert f"/dx approve {case_no}" in request
    assert bot.sender.texts("expert2") == []  # not told before the prefecture agrees

    approved = await bot.say("pref1", f"/dx approve {case_no}")

    assert _texts(approved) == [t("approved_reply", case_no=case_no, name="伊藤 由美")]
    case = await _case(db, case_no)
    assert (case.match_state, case.approved_expert_user_id, case.proposed_expert_user_id) == (
        "approved",
        ids["expert2"],
        None,
    )
    assert bot.sender.texts("expert2") == [
        t(
            "expert_assigned",
            case_no=case_no,
            desc="生成AIの利用ガイドラインとセキュリティについて相談したい",
        )
    ]
    assert t("match_approved_staff", case_no=case_no, name="伊藤 由美") in bot.sender.texts("staff")


async def test_prefecture_approves_with_a_numbered_reply(bot: ChatBot) -> None:
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)
    await bot.say("staff1", f"/dx pick {case_no} expert1")
    # The approval request reached pref1 directly too, with numbered choices (LoGo, console).
    assert any("【承認依頼】" in text for text in bot.sender.texts("pref1"))

    replies = await bot.say("pref1", "1")

    assert _texts(replies) == [t("approved_reply", case_no=case_no, name="田中 誠")]
    assert (await _case(_db(bot), case_no)).approved_expert_user_id == (await _ids(_db(bot)))[
        "expert1"
    ]


async def test_prefecture_rejects_with_a_reason(bot: ChatBot) -> None:
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)
    await bot.say("staff1", f"/dx pick {case_no} expert1")

    replies = await bot.say("pref1", f"/dx reject {case_no} 訪問できる方を希望")

    assert _texts(replies) == [t("rejected_reply", case_no=case_no)]
    case = await _case(_db(bot), case_no)
    assert (case.match_state, case.proposed_expert_user_id, case.approved_expert_user_id) == (
        "",
        None,
        None,
    )
    assert case.status == "coordinating"
    assert bot.sender.texts("staff")[-1] == t(
        "match_rejected_staff", case_no=case_no, name="田中 誠", reason="訪問できる方を希望"
    )
    assert bot.sender.texts("expert1") == []
    # Nothing left to approve, and nothing to schedule with.
    await _refused(bot, "pref1", f"/dx approve {case_no}", t("nothing_to_approve", case_no=case_no))
    await _refused(
        bot,
        "staff1",
        f"/dx schedule {case_no} 2026-11-24 14:00 2 onsite",
        t("no_expert", case_no=case_no),
    )


async def test_only_the_prefecture_approves(bot: ChatBot) -> None:
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)
    await bot.say("staff1", f"/dx pick {case_no} expert1")

    for user, role in (("staff1", "事務局"), ("officer1", "市町村職員"), ("expert1", "専門人材")):
        await _refused(bot, user, f"/dx approve {case_no}", t("forbidden", role=role))
        await _refused(bot, user, f"/dx reject {case_no} だめ", t("forbidden", role=role))
    case = await _case(_db(bot), case_no)
    assert (case.match_state, case.approved_expert_user_id) == ("proposed", None)


async def test_nothing_to_approve(bot: ChatBot) -> None:
    case_no = await _new_case(bot)
    await _refused(bot, "pref1", f"/dx approve {case_no}", t("nothing_to_approve", case_no=case_no))


async def test_out_of_range_number_after_a_proposal(bot: ChatBot) -> None:
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)
    await bot.say("staff1", f"/dx match {case_no}")
    # expert2 (伊藤 由美, no session yet) is proposed first: the hint's example.
    hint = "1〜3の番号か、「伊藤 由美」のように選択肢の言葉でお答えください。"
    await _refused(bot, "staff1", "4", hint)
    # The proposal is still there to answer.
    picked = await bot.say("staff1", "2")
    assert _texts(picked) == [t("awaiting_approval", case_no=case_no, name="小林 大輔")]


async def test_a_command_in_between_keeps_the_proposal_to_answer(bot: ChatBot) -> None:
    """Nothing typed is lost: a `/dx help` between the proposal and the pick does not drop it."""
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)
    await bot.say("staff1", f"/dx match {case_no}")
    await bot.say("staff1", "/dx help")
    picked = await bot.say("staff1", "2")
    assert _texts(picked) == [t("awaiting_approval", case_no=case_no, name="小林 大輔")]


async def test_cancelling_drops_a_pending_proposal(bot: ChatBot) -> None:
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)
    await bot.say("staff1", f"/dx match {case_no}")
    await bot.say("staff1", "キャンセル")
    replies = await bot.say("staff1", "2")
    assert t("awaiting_approval", case_no=case_no, name="小林 大輔") not in _texts(replies)


async def test_where_staff_decide_the_pick_is_final(bot: ChatBot) -> None:
    services: Any = bot.services
    services.dispatcher.profile = services.profile.model_copy(update={"match_approver": "staff"})
    await _roster(bot, ROSTER)
    case_no = await _new_case(bot)

    (proposal,) = await bot.say("staff1", f"/dx match {case_no}")
    assert t("approver_prefecture") not in proposal.text
    replies = await bot.say("staff1", "1")

    assert _texts(replies) == [t("match_done", case_no=case_no, name="伊藤 由美")]
    case = await _case(_db(bot), case_no)
    assert (case.match_state, case.approved_expert_user_id) == (
        "approved",
        (await _ids(_db(bot)))["expert2"],
    )
    assert all("承認依頼" not in text for text in bot.sender.texts())


# --- scheduling in the chat --------------------------------------------------------------------------


async def test_schedule_a_joint_session_and_everyone_is_told(bot: ChatBot) -> None:
    db = _db(bot)
    case_no = await _new_case(bot, expert="expert5")
    await bot.say("staff1", f"/dx track {case_no} haken")
    bot.sender.sent.clear()

    replies = await bot.say(
        "staff1", f"/dx schedule {case_no} 2026-11-24 14:00 3 訪問 さいたま市役所 会議室A +秩父市"
    )

    details = t(
        "session_details",
        session_id=1,  # the program's first session
        case_no=case_no,
        start="2026年11月24日(火) 14:00",
        hours="3",
        method="訪問",
        place="さいたま市役所 会議室A",
        municipalities="さいたま市、秩父市",
        due="2026年12月1日(火)",  # 5 開庁日 after the session
    )
    assert _texts(replies) == [t("session_scheduled_staff", status="実施予定", details=details)]
    (session,) = await _sessions(db, case_no)
    assert session.starts_at == dt.datetime(2026, 11, 24, 14, tzinfo=JST)
    assert (session.hours, session.method, session.track_id) == (3, "onsite", "haken")
    assert session.report_due == dt.date(2026, 12, 1)
    async with db.transaction() as s:
        codes = set(
            (
                await s.scalars(
                    select(SessionMunicipality.municipality_code).where(
                        SessionMunicipality.session_id == session.id
                    )
                )
            ).all()
        )
    assert codes == {SAITAMA, CHICHIBU}  # one session, two municipalities
    case = await _case(db, case_no)
    assert case.status == "scheduled"

    changed = [
        t("status_changed", case_no=case_no, frm=frm, to=to, actor="佐藤 美咲", reason="")
        for frm, to in (("受付", "調整中"), ("調整中", "実施予定"))
    ]
    assert bot.sender.texts("staff") == changed
    assert bot.sender.texts("prefecture") == changed
    assert bot.sender.texts("expert5") == [t("session_scheduled_expert", details=details)]
    # One message per booking per person: the details, not also 「調整を始めました」 and
    # 「日程が決まりました」 for the status changes the booking caused (issue 19).
    assert bot.sender.texts("officer1") == [t("session_scheduled_officer", details=details)]
    # The joint municipality's officer hears of the session they take part in.
    assert bot.sender.texts("officer2") == [t("session_scheduled_officer", details=details)]


async def test_schedule_refusals_write_nothing(bot: ChatBot) -> None:
    await _book(bot, {"expert5": dt.datetime(2026, 11, 24, 13, tzinfo=JST)}, hours=3)
    case_no = await _new_case(bot, expert="expert5")
    no_expert = await _new_case(bot)
    await bot.say("staff1", f"/dx track {case_no} haken")
    refusals = [
        ("2026-11-13 14:00 1 online", t("start_past", start="2026年11月13日(金) 14:00")),
        ("2026-11-16 09:00 1 online", t("start_past", start="2026年11月16日(月) 09:00")),
        ("2026-11-21 10:00 1 online", t("start_closed", day="2026年11月21日(土)", reason="土曜日")),
        ("11月23日 10:00 1 online",
         t("start_closed", day="2026年11月23日(月)", reason="勤労感謝の日")),
        ("2026-12-29 10:00 1 online",
         t("start_closed", day="2026年12月29日(火)", reason="年末年始")),
        ("2026-11-25 09:00 9 onsite", t("hours_over_max", hours="9", max="8", track=HAKEN)),
        ("2026-11-25 09:00 0 onsite", t("hours_invalid")),
        ("2026-11-24 15:00 2 onsite",
         t("expert_busy", names="小林 大輔", start="2026年11月24日(火) 15:00")),
        ("2026-11-24 10:00 4 onsite",  # 10:00-14:00 overlaps the booking from 13:00
         t("expert_busy", names="小林 大輔", start="2026年11月24日(火) 10:00")),
        ("2026-11-25 14:00 2 onsite +存在しない町",
         t("municipality_unknown", text="存在しない町", prefecture="埼玉県")),
        ("2026-11-25 14:00 2 email",  # a method the dispatch track does not list
         t("method_not_for_track", track=HAKEN, method="メール", allowed="訪問・オンライン")),
        # each bad part named with its own reason (issue 19)
        ("2026-11-25 14:00 2 fax", t("schedule_bad_method", text="fax")),
        ("2026-11-25 25:00 2 online", t("schedule_bad_time", text="25:00")),
        ("2026-11-25 14:00 二時間 online", t("schedule_bad_hours", text="二時間")),
        ("2026-11-25", t("schedule_usage")),
        ("そのうち 14:00 2 online", t("schedule_bad_date", text="そのうち")),
    ]  # fmt: skip
    for args, expected in refusals:
        await _refused(bot, "staff1", f"/dx schedule {case_no} {args}", expected)
    await _refused(
        bot,
        "staff1",
        f"/dx schedule {no_expert} 2026-11-25 14:00 1 online",
        t("no_expert", case_no=no_expert),
    )
    await _refused(
        bot,
        "officer1",
        f"/dx schedule {case_no} 2026-11-25 14:00 1 online",
        t("forbidden", role="市町村職員"),
    )
    assert (await _case(_db(bot), case_no)).status == "received"
    # Right after the booking ends is free; 8 hours is the dispatch track's maximum.
    ok = await bot.say("staff1", f"/dx schedule {case_no} 2026-11-24 16:00 1 online")
    assert ok[0].text.startswith(t("session_scheduled_staff", status="実施予定", details=""))
    ok = await bot.say("staff1", f"/dx schedule {case_no} 2026-11-25 09:00 8 onsite")
    assert "（8時間）" in ok[0].text
    assert len(await _sessions(_db(bot), case_no)) == 2


async def test_municipality_cap_counts_joint_sessions_for_each(bot: ChatBot) -> None:
    db = _db(bot)
    ids = await _ids(db)
    case_no = await _new_case(bot, expert="expert5", track="haken")
    async with db.transaction() as s:
        own = await case_store.get_by_no(s, case_no)
        assert own is not None
        day = dt.datetime(2026, 10, 5, 10, tzinfo=JST)
        # さいたま市: 3 dispatches alone + 1 joint with 川越市 = 4 of 5.
        for k in range(3):
            await _session(s, own, [ids["expert1"]], day + dt.timedelta(days=k), track="haken")
        await _session(
            s,
            own,
            [ids["expert1"]],
            day + dt.timedelta(days=3),
            track="haken",
            municipalities=[SAITAMA, KAWAGOE],
        )
        # 川越市: that joint one + 4 alone = 5 of 5.
        for k in range(4):
            await _session(
                s,
                own,
                [ids["expert2"]],
                day + dt.timedelta(days=k),
                track="haken",
                municipalities=[KAWAGOE],
            )
        # Consultations are another track: they do not count toward the dispatch cap.
        for k in range(3):
            await _session(s, own, [ids["expert3"]], day + dt.timedelta(days=10 + k))

    await _refused(
        bot,
        "staff1",
        f"/dx schedule {case_no} 2026-11-25 14:00 3 onsite +川越市",
        t("municipality_cap", names="川越市", cap=5, track=HAKEN),
    )
    ok = await bot.say("staff1", f"/dx schedule {case_no} 2026-11-25 14:00 3 onsite")
    assert ok[0].text.startswith(t("session_scheduled_staff", status="実施予定", details=""))
    await _refused(
        bot,
        "staff1",
        f"/dx schedule {case_no} 2026-11-26 14:00 3 onsite",
        t("municipality_cap", names="さいたま市", cap=5, track=HAKEN),
    )


# --- `dxbot sessions add`: the same rules, English errors, exit code 2 -----------------------------


def _env(db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "DXBOT_PROGRAM": "saitama-2026",
        "DXBOT_LOG_LEVEL": "WARNING",
    }


async def _run(argv: Sequence[str], env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _dxbot(db_url: str, *args: str) -> tuple[int, str, str]:
    """The installed console script, as an operator or a cron job runs it."""
    dxbot = str(Path(sys.executable).parent / "dxbot")
    return await _run([dxbot, *args, "--now", NOW_ISO], _env(db_url))


# Many refusals, one interpreter: each is `bot.cli.main(argv)` (what the `dxbot` script calls),
# with its own stdout/stderr and exit code, so the table stays fast on a small CI machine.
DRIVER = """
import contextlib, io, json, sys
from bot.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


async def _dxbot_many(db_url: str, argvs: Sequence[list[str]]) -> list[tuple[int, str, str]]:
    payload = json.dumps([[*argv, "--now", NOW_ISO] for argv in argvs])
    code, out, err = await _run([sys.executable, "-c", DRIVER, payload], _env(db_url))
    assert (code, err) == (0, ""), err
    return [(c, o, e) for c, o, e in json.loads(out)]


def _add(case_no: str, start: str, hours: str = "2", *extra: str) -> list[str]:
    return [
        "sessions",
        "add",
        "--case",
        case_no,
        "--expert",
        "expert5",
        "--start",
        start,
        "--hours",
        hours,
        "--method",
        "onsite",
        *extra,
    ]


async def test_cli_sessions_add_refuses_or_schedules_and_tells_everyone(
    bot: ChatBot, db_url: str
) -> None:
    case_no = await _new_case(bot, expert="expert5", track="haken")
    before = await _counts(_db(bot))

    code, out, err = await _dxbot(db_url, *_add(case_no, "2026-11-21T10:00"))

    assert (code, out) == (2, "")
    assert err == "error: 2026年11月21日(土) is a closed day (土曜日); choose a 開庁日.\n"
    assert await _counts(_db(bot)) == before

    code, out, err = await _dxbot(
        db_url,
        *_add(case_no, "2026-11-24T14:00", "3", "--place", "市役所", "--municipality", "秩父市"),
    )

    assert (code, err) == (0, "")
    assert out.startswith("Scheduled session ") and out.strip().endswith(
        f"for {case_no}; report due 2026-12-01."
    )
    (session,) = await _sessions(_db(bot), case_no)
    assert (session.starts_at, session.hours, session.place) == (
        dt.datetime(2026, 11, 24, 14, tzinfo=JST),
        3,
        "市役所",
    )
    assert (await _case(_db(bot), case_no)).status == "scheduled"
    await bot.deliver()
    assert [text.splitlines()[0] for text in bot.sender.texts("expert5")] == [
        t("session_scheduled_expert", details="").strip()
    ]
    assert len(bot.sender.texts("officer2")) == 1  # the joint municipality's officer
    (told,) = bot.sender.texts("officer1")  # one message for the booking
    assert told.startswith(t("session_scheduled_officer", details="").strip())
    assert len(bot.sender.texts("staff")) == len(bot.sender.texts("prefecture")) == 2


async def test_cli_sessions_add_refusals(bot: ChatBot, db_url: str) -> None:
    await _book(bot, {"expert5": dt.datetime(2026, 11, 24, 13, tzinfo=JST)}, hours=3)
    case_no = await _new_case(bot, expert="expert5", track="haken")
    full = await _new_case(bot, expert="expert5", track="haken", municipality=KAWAGOE)
    consultation = await _new_case(bot, expert="expert5", track="soudan")
    db = _db(bot)
    async with db.transaction() as s:
        kawagoe_case = await case_store.get_by_no(s, full)
        assert kawagoe_case is not None
        for k in range(5):
            await _session(
                s, kawagoe_case, [(await _ids(db))["expert1"]],
                dt.datetime(2026, 10, 5 + k, 10, tzinfo=JST), track="haken",
            )  # fmt: skip
    before = await _counts(db)
    cases = [
        (_add(case_no, "2026-11-13T14:00"),
         "The start 2026年11月13日(金) 14:00 is in the past; give a future date and time."),
        (_add(case_no, "2026-11-21T10:00"),
         "2026年11月21日(土) is a closed day (土曜日); choose a 開庁日."),
        (_add(case_no, "2026-11-25T09:00", "9"),
         f"A session of track {HAKEN} may last at most 8 hours, not 9."),
        (_add(case_no, "2026-11-24T15:00"),
         "小林 大輔 already has a session at 2026年11月24日(火) 15:00; choose another time."),
        (_add(full, "2026-11-25T14:00"),
         f"川越市 reached the cap of 5 sessions for track {HAKEN}."),
        (_add(case_no, "2026-11-25T14:00", "2", "--municipality", "川越市"),
         f"川越市 reached the cap of 5 sessions for track {HAKEN}."),
        (_add("SAI-2026-9999", "2026-11-25T14:00"),
         "Case SAI-2026-9999 does not exist in program saitama-2026; check the id or set "
         "DXBOT_PROGRAM."),
        (_add(case_no, "2026-11-25T14:00", "2", "--municipality", "存在しない町"),
         "No municipality '存在しない町' is loaded; give its name (さいたま市) or its 5/6-digit "
         "code, after `dxbot seed --program ID`."),
        (_add(consultation, "2026-11-25T14:00"),
         "Track DXよろず相談窓口 is held by オンライン・メール・チャット・電話, not 訪問."),
        (_add(case_no, "tomorrow"),
         "'tomorrow' is not a date and time; use ISO 8601, e.g. 2026-12-03T14:00."),
    ]  # fmt: skip
    results = await _dxbot_many(db_url, [args for args, _ in cases])

    for (args, message), (code, out, err) in zip(cases, results, strict=True):
        assert (code, out, err.strip()) == (2, "", f"error: {message}"), args
    assert await _counts(db) == before
    assert await _sessions(db, case_no) == []


async def test_an_expert_who_cannot_visit_is_refused_for_an_onsite_case(bot: ChatBot) -> None:
    from sqlalchemy import select

    from store.models import Case, ExpertProfile, User

    await bot.say("officer1", "セキュリティポリシーの見直しを相談したい。訪問で12月3日午後希望")
    await bot.say("officer1", "1")
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        remote = await s.scalar(
            select(User)
            .join(ExpertProfile, ExpertProfile.user_id == User.id)
            .where(ExpertProfile.onsite.is_(False))
            .limit(1)
        )
        case_no = await s.scalar(select(Case.case_no))
    replies = await bot.say("staff1", f"/dx pick {case_no} {remote.platform_id}")
    assert "訪問対応ができない" in replies[0].text
    async with bot.services.db.transaction() as s:  # type: ignore[attr-defined]
        case = await s.scalar(select(Case))
        assert case.proposed_expert_user_id is None and case.status == "received"


async def test_cli_sessions_add_keeps_to_the_programs_prefecture(bot: ChatBot, db_url: str) -> None:
    """美里町 exists in 埼玉県 (113816) and 熊本県 (433489): a Saitama session takes Saitama's by
    name, and refuses Kumamoto's by code with the reason."""
    from store.profiles import load_profile
    from store.seed import seed_program

    db = _db(bot)
    async with db.transaction() as s:
        await seed_program(s, load_profile("kumamoto-2026"), dt.datetime(2026, 11, 16, tzinfo=JST))
    case_no = await _new_case(bot, expert="expert5", track="haken")
    before = await _counts(db)

    code, out, err = await _dxbot(
        db_url, *_add(case_no, "2026-11-25T14:00", "2", "--municipality", "433489")
    )
    assert (code, out) == (2, "")
    assert err.strip() == (
        "error: 美里町 (433489) is in 熊本県, not in 埼玉県, the prefecture of program saitama-2026."
    )
    assert await _counts(db) == before

    code, out, err = await _dxbot(
        db_url, *_add(case_no, "2026-11-25T14:00", "2", "--municipality", "美里町")
    )
    assert (code, err) == (0, "")
    (session,) = await _sessions(db, case_no)
    async with db.transaction() as s:
        codes = set(
            await s.scalars(
                select(SessionMunicipality.municipality_code).where(
                    SessionMunicipality.session_id == session.id
                )
            )
        )
    assert "113816" in codes and "433489" not in codes


async def test_cli_sessions_add_warns_when_the_prefectures_approval_was_skipped(
    bot: ChatBot, db_url: str
) -> None:
    case_no = await _new_case(bot, track="haken")  # no match, no approval (Saitama: 県が承認)
    code, out, err = await _dxbot(db_url, *_add(case_no, "2026-11-25T14:00"))
    assert code == 0 and out.startswith("Scheduled session ")
    assert err.strip() == (
        f"Warning: in program saitama-2026 the prefecture approves the expert of a case, and "
        f"{case_no} has no approved match with expert5; ask the prefecture to confirm "
        "(/dx approve in the chat)."
    )
