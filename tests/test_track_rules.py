"""Per-track and program rules (issue 12, item 4), enforced in one place (store/rules.py) for
matching, `/dx schedule` and `dxbot sessions add`; on SQLite and PostgreSQL.

The demo people (bot/demo.py add_people) give the roster: 田中 誠 (expert1), 伊藤 由美
(expert2), 中村 京子 (expert4), 小林 大輔 (expert5) can visit; 渡辺 拓也 (expert3) cannot. All
consented to be listed unless a test says otherwise. Expected figures are worked out by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Sequence

from sqlalchemy import select

from bot.core.catalog import t
from reminders.clock import JST
from store import cases as case_store
from store import reporting, users
from store import sessions as session_store
from store.db import Database
from store.models import ExpertProfile, SupportSession, User
from store.profiles import load_profile
from store.rules import ExpertFacts, SessionPlan, session_refusal, shortfalls
from tests.conftest import ChatBot
from tests.test_matching import DRIVER, _ids, _run
from tests.test_term import BotFactory, open_case, program_bot, refused

__all__ = ["program_bot"]  # the fixture, shared with test_term.py

NOW = dt.datetime(2026, 11, 16, 10, 0, tzinfo=JST)  # Monday
SAITAMA_CITY, KAWAGOE = "111007", "112011"
MIYAZAKI_CITY, MIYAKONOJO, NOBEOKA = "452017", "452025", "452033"
MIYAZAKI_NOW = dt.datetime(2025, 11, 17, 10, 0, tzinfo=JST)  # Monday, inside Miyazaki's term
HYOJUNKA = "情報システム標準化・共通化の伴走支援（24市町村）"
SOUDAN = "DXよろず相談窓口"
HAKEN = "デジタル専門人材の派遣によるアドバイス支援"
SEC, AI, TELE = "セキュリティ対策の徹底", "自治体のAIの利用促進", "テレワークの推進"


def _db(bot: ChatBot) -> Database:
    return bot.services.db  # type: ignore[attr-defined,no-any-return]


async def _dxbot(
    db_url: str, program: str, now: str, argvs: Sequence[list[str]]
) -> list[tuple[int, str, str]]:
    """`dxbot` as an operator runs it, several commands in one interpreter."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DXBOT_PROGRAM": program,
        "DXBOT_LOG_LEVEL": "WARNING",
    }
    payload = json.dumps([[*argv, "--now", now] for argv in argvs])
    code, out, err = await _run([sys.executable, "-c", DRIVER, payload], env)
    assert (code, err) == (0, ""), err
    return [(c, o, e) for c, o, e in json.loads(out)]


def _add(case_no: str, expert: str, start: str, hours: str, method: str, *extra: str) -> list[str]:
    return ["sessions", "add", "--case", case_no, "--expert", expert, "--start", start,
            "--hours", hours, "--method", method, *extra]  # fmt: skip


# --- hours and the time window -----------------------------------------------------------------


async def test_hours_ceiling_and_start_window(program_bot: BotFactory, db_url: str) -> None:
    bot = await program_bot("saitama-2026", NOW)
    case_no = await open_case(
        bot, "saitama-2026", track="soudan", municipality=SAITAMA_CITY, expert="expert5", now=NOW
    )
    # 相談窓口 sets no max_hours: the product ceiling, 8 hours, applies.
    await refused(
        bot,
        f"/dx schedule {case_no} 2026-11-25 10:00 12 online",
        "DXよろず相談窓口の1回あたりの支援時間は最大8時間です（12時間は登録できません）。",
    )
    window = (
        "支援は08:00から20:00までの時間帯に行います（{start}開始・{hours}時間は時間帯の外です）。"
        "08:00以降に始まり20:00までに終わる日時を指定してください。"
    )
    for args, start, hours in (
        ("2026-11-25 06:00 1", "2026年11月25日(水) 06:00", "1"),
        ("2026-11-25 07:59 1", "2026年11月25日(水) 07:59", "1"),
        ("2026-11-25 20:00 1", "2026年11月25日(水) 20:00", "1"),
        ("2026-11-25 19:00 2", "2026年11月25日(水) 19:00", "2"),  # would end at 21:00
    ):
        await refused(
            bot,
            f"/dx schedule {case_no} {args} online",
            window.format(start=start, hours=hours),
        )
    # 08:00 for 8 hours and 18:00 for 2 hours (ending at 20:00 exactly) are inside the window.
    for args in ("2026-11-25 08:00 8", "2026-11-26 18:00 2"):
        (reply,) = await bot.say("staff1", f"/dx schedule {case_no} {args} online")
        assert reply.text.startswith("日程を登録しました"), reply.text

    results = await _dxbot(
        db_url,
        "saitama-2026",
        "2026-11-16T10:00:00+09:00",
        [
            _add(case_no, "expert5", "2026-11-27T10:00", "12", "online"),
            _add(case_no, "expert5", "2026-11-27T06:00", "1", "online"),
        ],
    )
    assert results == [
        (2, "", f"error: A session of track {SOUDAN} may last at most 8 hours, not 12.\n"),
        (
            2,
            "",
            "error: Sessions run between 08:00 and 20:00; a 1-hour session starting "
            "2026年11月27日(金) 06:00 is outside that window.\n",
        ),
    ]


# --- who may be booked --------------------------------------------------------------------------


async def test_an_expert_who_cannot_visit_is_not_booked_on_site(
    program_bot: BotFactory, db_url: str
) -> None:
    bot = await program_bot("saitama-2026", NOW)
    case_no = await open_case(
        bot, "saitama-2026", track="haken", municipality=SAITAMA_CITY, expert="expert3", now=NOW
    )
    await refused(
        bot,
        f"/dx schedule {case_no} 2026-11-25 14:00 2 onsite",
        "渡辺 拓也さんは訪問対応ができないため、訪問の支援はお願いできません。"
        "オンラインで行うか、訪問できる専門人材を選んでください。",
    )
    (result,) = await _dxbot(
        db_url,
        "saitama-2026",
        "2026-11-16T10:00:00+09:00",
        [_add(case_no, "expert3", "2026-11-26T14:00", "2", "onsite")],
    )
    assert result == (
        2,
        "",
        "error: 渡辺 拓也 does not do on-site sessions; use --method online or another expert.\n",
    )
    (reply,) = await bot.say("staff1", f"/dx schedule {case_no} 2026-11-25 14:00 2 online")
    assert reply.text.startswith("日程を登録しました"), reply.text


async def _roster(db: Database, roster: dict[str, tuple[list[str], bool]]) -> None:
    ids = await _ids(db)
    async with db.transaction() as s:
        for pid, (domains, consent) in roster.items():
            user = await s.get(User, ids[pid])
            assert user is not None
            await users.upsert_expert_profile(
                s, user, domains=domains, qualifications=[], onsite=pid != "expert3",
                region="県内", consent_listed=consent,
            )  # fmt: skip


async def test_an_expert_without_consent_is_never_proposed(program_bot: BotFactory) -> None:
    bot = await program_bot("saitama-2026", NOW)
    db = _db(bot)
    # 伊藤 由美 fits best (both domains) but did not consent to be listed (Saitama §6(3)ウ).
    await _roster(
        db,
        {
            "expert1": ([SEC, AI], True),
            "expert2": ([SEC, AI], False),
            "expert3": ([TELE], True),
            "expert4": ([SEC], True),
            "expert5": ([TELE], True),
            "expert6": ([TELE], True),
            "expert7": ([TELE], True),
            "expert8": ([TELE], True),
        },
    )
    case_no = await open_case(
        bot, "saitama-2026", track="soudan", municipality=SAITAMA_CITY, expert="expert1", now=NOW
    )
    (proposal,) = await bot.say("staff1", f"/dx match {case_no}")
    ranked = [line.split(" — ")[0] for line in proposal.text.splitlines()[1:4]]
    # Two domains, one domain, then no domain with no sessions in the roster order.
    assert ranked == ["1. 田中 誠", "2. 中村 京子", "3. 渡辺 拓也"]

    ids = await _ids(db)
    expected = (
        "伊藤 由美さんは人材データベースへの掲載に同意していないため、支援をお願いできません。"
    )
    await refused(bot, f"/dx pick {case_no} expert2", expected)
    async with db.transaction() as s:
        case = await case_store.get_by_no(s, case_no)
        assert case is not None
        case.approved_expert_user_id = ids["expert2"]
    await refused(bot, f"/dx schedule {case_no} 2026-11-25 14:00 1 online", expected)


# --- municipalities a track serves ---------------------------------------------------------------


async def test_miyazaki_standardisation_excludes_miyazaki_and_miyakonojo(
    program_bot: BotFactory, db_url: str
) -> None:
    bot = await program_bot("miyazaki-2025", MIYAZAKI_NOW)
    excluded = await open_case(
        bot, "miyazaki-2025", track="hyojunka", municipality=MIYAZAKI_CITY, expert="expert1",
        now=MIYAZAKI_NOW,
    )  # fmt: skip
    served = await open_case(
        bot, "miyazaki-2025", track="hyojunka", municipality=NOBEOKA, expert="expert1",
        now=MIYAZAKI_NOW,
    )  # fmt: skip
    consultation = await open_case(
        bot, "miyazaki-2025", track="soudan", municipality=MIYAZAKI_CITY, expert="expert1",
        now=MIYAZAKI_NOW,
    )  # fmt: skip

    def refusal(names: str) -> str:
        return f"{names}は{HYOJUNKA}の対象外のため、この区分では登録できません。"

    await refused(bot, f"/dx schedule {excluded} 2025-11-25 10:00 2 online", refusal("宮崎市"))
    await refused(bot, f"/dx match {excluded}", refusal("宮崎市"))
    await refused(
        bot, f"/dx schedule {served} 2025-11-25 10:00 2 online +都城市", refusal("都城市")
    )
    (result,) = await _dxbot(
        db_url,
        "miyazaki-2025",
        "2025-11-17T10:00:00+09:00",
        [_add(excluded, "expert1", "2025-11-26T10:00", "2", "online")],
    )
    assert result == (2, "", f"error: 宮崎市 is not served by track {HYOJUNKA}.\n")

    # 延岡市 is one of the 24; 宮崎市's consultations are another track, which serves it.
    (reply,) = await bot.say("staff1", f"/dx schedule {served} 2025-11-25 10:00 2 online")
    assert reply.text.startswith("日程を登録しました"), reply.text
    (reply,) = await bot.say("staff1", f"/dx schedule {consultation} 2025-11-26 10:00 1 online")
    assert reply.text.startswith("日程を登録しました"), reply.text

    # Filing 宮崎市's consultation under 標準化 afterwards is refused the same way.
    await refused(bot, f"/dx track {consultation} hyojunka", refusal("宮崎市"))
    (reply,) = await bot.say("staff1", f"/dx track {served} soudan")
    soudan = load_profile("miyazaki-2025").track("soudan").name
    assert reply.text == f"{served}の区分を「{soudan}」にしました。"


# --- the rules alone: order, caps ------------------------------------------------------------------


def test_the_first_rule_broken_is_the_one_given() -> None:
    saitama = load_profile("saitama-2026")
    haken = saitama.track("haken")
    names = {SAITAMA_CITY: "さいたま市", KAWAGOE: "川越市"}
    remote = ExpertFacts(name="渡辺 拓也", onsite=False, consent_listed=True)

    def plan(**kw: object) -> SessionPlan:
        base: dict[str, object] = {
            "track": haken,
            "starts_at": dt.datetime(2026, 11, 25, 14, 0, tzinfo=JST),
            "hours": 3.0,
            "method": "onsite",
            "municipality_codes": [SAITAMA_CITY, KAWAGOE],
            "municipality_names": names,
            "experts": [ExpertFacts(name="小林 大輔", onsite=True, consent_listed=True)],
            "sessions_so_far": {SAITAMA_CITY: 4, KAWAGOE: 4},
        }
        return SessionPlan(**{**base, **kw})  # type: ignore[arg-type]

    assert session_refusal(saitama, plan()) is None  # 4 of 5 each: one more is allowed
    capped = session_refusal(saitama, plan(sessions_so_far={SAITAMA_CITY: 4, KAWAGOE: 5}))
    assert capped is not None
    assert (capped.key, capped.params) == (
        "municipality_cap",
        {"names": "川越市", "cap": 5, "track": HAKEN},
    )
    # Several broken at once: hours first, then the date, then the expert.
    many = plan(hours=9.0, experts=[remote], starts_at=dt.datetime(2027, 4, 6, 14, tzinfo=JST))
    assert session_refusal(saitama, many).key == "hours_over_max"  # type: ignore[union-attr]
    many = plan(experts=[remote], starts_at=dt.datetime(2027, 4, 6, 14, tzinfo=JST))
    assert session_refusal(saitama, many).key == "outside_term"  # type: ignore[union-attr]
    assert session_refusal(saitama, plan(experts=[remote])).key == "expert_cannot_visit"  # type: ignore[union-attr]
    # An e-mail answer written at 22:00 is not a meeting: no time window.
    soudan = saitama.track("soudan")
    late_mail = plan(
        track=soudan,
        method="email",
        hours=1.0,
        starts_at=dt.datetime(2026, 11, 25, 22, tzinfo=JST),
        experts=[remote],
    )
    assert session_refusal(saitama, late_mail) is None


# --- Yamagata: 現地での支援を2回以上 across both accompaniment themes ------------------------------


def test_yamagata_onsite_shortfall_spans_both_themes() -> None:
    yamagata = load_profile("yamagata-2026")
    (short,) = shortfalls(yamagata, {})
    assert (short.track_ids, short.minimum, short.held, short.remaining) == (
        ("denshi_keiyaku", "kouiki_dx"),
        2,
        0,
        2,
    )
    assert t(short.key, **short.params) == (
        "伴走支援（電子契約システムにかかる共同調達・運用支援）・伴走支援（広域DXの推進・横展開支援）"
        "の現地での支援が0回です（2回以上が必要、あと2回）。"
    )
    (short,) = shortfalls(yamagata, {"denshi_keiyaku": 1, "soudan": 3})  # 相談窓口 does not count
    assert short.held == 1
    assert shortfalls(yamagata, {"denshi_keiyaku": 1, "kouiki_dx": 1}) == []
    assert shortfalls(load_profile("saitama-2026"), {}) == []  # no on-site minimum there


async def test_yamagata_shortfall_until_two_onsite_sessions_are_held(db: Database) -> None:
    from bot.demo import add_people
    from store.reference import loaded_municipalities
    from store.seed import seed_program

    yamagata = load_profile("yamagata-2026")
    async with db.transaction() as s:
        await seed_program(s, yamagata, NOW)
        munis = await loaded_municipalities(s, "06")
        await add_people(s, munis, NOW)
        expert = await s.scalar(select(ExpertProfile.user_id).order_by(ExpertProfile.user_id))
        assert expert is not None

        async def session(track: str, day: int, method: str) -> int:
            case = await case_store.create(
                s, program_id="yamagata-2026", prefix="YAM", year=2026, track_id=track,
                municipality_code=munis[0].code, now=dt.datetime(2026, 10, 1, 9, tzinfo=JST),
            )  # fmt: skip
            start = dt.datetime(2026, 11, day, 10, tzinfo=JST)
            made = await session_store.create(
                s, program_id="yamagata-2026", case_id=case.id, track_id=track, starts_at=start,
                hours=2, method=method, place="", report_due=start.date(),
                municipality_codes=[munis[0].code], expert_user_ids=[expert], now=start,
            )  # fmt: skip
            return made.id

        await session("denshi_keiyaku", 9, "online")  # held, but online
        await session("soudan", 10, "onsite")  # on site, but the consultation desk
        await session("denshi_keiyaku", 11, "onsite")  # held on site: 1 of 2
        cancelled = await session("kouiki_dx", 12, "onsite")
        await session("kouiki_dx", 18, "onsite")  # on site but still ahead on 11/16

    async def at(now: dt.datetime) -> tuple[list[int], int, bool]:
        """The shortfalls' held figures, counted by the one counting module, beside that
        module's own figure and verdict for the rule (they must agree)."""
        async with db.transaction() as s:
            figures = await reporting.count_figures(
                s, "yamagata-2026", reporting.counting_window(yamagata), now
            )
        held = {t.id: figures.track(t.id).onsite_held for t in yamagata.tracks}
        (rule,) = reporting.onsite_rules(yamagata, figures)
        return [f.held for f in shortfalls(yamagata, held)], rule.onsite_held, rule.met

    async with db.transaction() as s:
        gone = await s.get(SupportSession, cancelled)
        assert gone is not None
        gone.status = "cancelled"
    assert await at(NOW) == ([1], 1, False)  # 11/11 only: 1 of 2; cancelled never counts
    # Once 11/18's on-site session (the other theme) has ended, the two themes have 2.
    assert await at(dt.datetime(2026, 11, 18, 12, 0, tzinfo=JST)) == ([], 2, True)
