"""Intake (相談受付) and the case lifecycle, through the chat harness on SQLite and PostgreSQL.

Each test talks to the bot as an officer, staff or prefecture user would (``bot.say``) and then
reads what the database holds: a case only after the officer confirms, nothing at all after a
cancel, an expiry or a refused answer, and one status-history row and one round of
notifications (#staff, #prefecture, the requesting officer) per status change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import build_services, system_context
from bot.core.catalog import t
from bot.core.config import Settings
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.messages import Inbound, Outbound
from bot.core.notifier import Notifier
from bot.core.permissions import Actor, Role
from handlers import lifecycle
from reminders.clock import FixedClock
from store import cases as case_store
from store import conversations, users
from store.db import Database
from store.models import Base, Case, Municipality, StatusChange
from tests.conftest import ChatBot, RecordingSender

STAFF_CHANNEL = "dx-jimukyoku"
PREF_CHANNEL = "dx-ken"
FLOW_LABEL = "相談受付"
FIRST_MESSAGE = "電子契約の共同調達について相談したいです。オンラインで来週火曜の午後希望"
DOMAIN_NAMES = (
    "組織体制の整備",
    "デジタル専門人材の確保・育成",
    "方針・計画の策定",
    "自治体フロントヤード改革",
    "情報システムの標準化・共通化",
    "公金収納におけるeL-QRの活用",
    "マイナンバーカードの普及促進・利用の推進",
    "セキュリティ対策の徹底",
    "自治体のAIの利用促進",
    "テレワークの推進",
    "地域社会のデジタル化",
    "デジタルデバイド対策",
    "BPRの取組の徹底",
    "オープンデータ・官民データ活用",
    "ICT-BCP",
)


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Channel names other than the defaults, so the tests prove the settings are used."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL=db_url,
        DXBOT_PROGRAM="saitama-2026",
        DXBOT_STAFF_CHANNEL=STAFF_CHANNEL,
        DXBOT_PREFECTURE_CHANNEL=PREF_CHANNEL,
    )


# --- helpers ---------------------------------------------------------------------------------


def _db(bot: ChatBot) -> Database:
    return bot.services.db  # type: ignore[attr-defined,no-any-return]


async def _counts(db: Database) -> dict[str, int]:
    out: dict[str, int] = {}
    async with db.transaction() as s:
        for table in Base.metadata.sorted_tables:
            out[table.name] = int(await s.scalar(select(func.count()).select_from(table)) or 0)
    return out


async def _conv(db: Database, user: str) -> tuple[str, dict[str, Any]] | None:
    """(step, data) of the user's conversation; the numbered-choices cache left out."""
    async with db.transaction() as s:
        state = await conversations.get(s, "console", user, "")
    if state is None:
        return None
    return state.step, {k: v for k, v in state.data.items() if k != "_choices"}


async def _snapshot(bot: ChatBot, user: str) -> tuple[dict[str, int], object]:
    counts = await _counts(_db(bot))
    counts.pop("processed_events")  # every inbound event is claimed, refused or not
    return counts, await _conv(_db(bot), user)


async def _cases(db: Database) -> list[Case]:
    async with db.transaction() as s:
        return list((await s.scalars(select(Case).order_by(Case.id))).all())


async def _case(db: Database, case_no: str) -> Case:
    async with db.transaction() as s:
        case = await case_store.get_by_no(s, case_no)
    assert case is not None
    return case


async def _history(db: Database, case_no: str) -> list[StatusChange]:
    case = await _case(db, case_no)
    async with db.transaction() as s:
        return await case_store.history(s, case.id)


async def _user_id(db: Database, platform_id: str) -> int:
    async with db.transaction() as s:
        user = await users.get_by_platform_id(s, "console", platform_id)
    assert user is not None
    return user.id


def _one(replies: Sequence[Outbound]) -> Outbound:
    assert len(replies) == 1, [r.text for r in replies]
    return replies[0]


def _fields(summary: Outbound) -> dict[str, str]:
    return dict(summary.fields)


async def _open_as_officer1(bot: ChatBot) -> str:
    """The shortest natural intake: one message, one question, confirm."""
    await bot.say("officer1", FIRST_MESSAGE)
    await bot.say("officer1", "わからない")
    opened = _one(await bot.say("officer1", "申し込む")).text
    cases = await _cases(_db(bot))
    assert cases[-1].case_no in opened
    return cases[-1].case_no


async def _to_summary(bot: ChatBot) -> Outbound:
    await bot.say("officer1", FIRST_MESSAGE)
    return _one(await bot.say("officer1", "8"))  # セキュリティ対策の徹底


# --- intake: what the first message says, one question at a time -----------------------------


async def test_plain_japanese_asks_only_what_is_missing_and_opens_a_case(bot: ChatBot) -> None:
    db = _db(bot)
    asked = _one(await bot.say("officer1", FIRST_MESSAGE))

    # Municipality, department, name and title come from the officer's registration; the
    # description, method and date from the message: only the domain is missing.
    assert asked.text == t("ask_domains")
    assert [c.label for c in asked.choices] == list(DOMAIN_NAMES)
    assert await _cases(db) == []

    summary = _one(await bot.say("officer1", "わからない"))
    assert summary.text == t("intake_summary")  # no warning: a future 開庁日
    assert _fields(summary) == {
        "団体名": "さいたま市",
        "部署": "デジタル推進課",
        "お名前": "山田 花子",
        "役職": "主査",
        "分野": "（事務局で分類）",
        "希望する方法": "オンライン",
        "希望日時": "2026年11月24日(火) 午後",
        "相談内容": FIRST_MESSAGE,
    }
    assert [c.value for c in summary.choices] == ["submit", "edit", "cancel"]
    assert await _cases(db) == []

    opened = _one(await bot.say("officer1", "申し込む"))

    assert opened.text == t("case_opened", case_no="SAI-2026-0001", municipality="さいたま市")
    (case,) = await _cases(db)
    officer_id = await _user_id(db, "officer1")
    assert (case.case_no, case.program_id, case.year, case.seq) == (
        "SAI-2026-0001",
        "saitama-2026",
        2026,
        1,
    )
    assert case.status == "received"
    assert case.requester_user_id == officer_id
    assert (case.department, case.requester_name, case.requester_title) == (
        "デジタル推進課",
        "山田 花子",
        "主査",
    )
    assert case.domains == []
    assert case.preferred_method == "online"
    assert case.preferred_dates == ["2026年11月24日(火) 午後"]
    assert case.description == FIRST_MESSAGE
    assert case.track_id == "soudan"  # the profile's default track
    assert await _conv(db, "officer1") is None
    (change,) = await _history(db, "SAI-2026-0001")
    assert (change.from_status, change.to_status, change.actor_user_id, change.actor_label) == (
        None,
        "received",
        officer_id,
        "山田 花子",
    )
    notice = t(
        "status_created",
        case_no="SAI-2026-0001",
        to="受付",
        actor="山田 花子",
        reason="",
    )
    # Staff and prefecture hear of the new case; the officer who typed it needs no echo.
    assert [(k, target, m.text) for k, target, m in bot.sender.sent] == [
        ("channel", STAFF_CHANNEL, notice),
        ("channel", PREF_CHANNEL, notice),
    ]


async def test_staff_on_behalf_is_asked_one_question_at_a_time(bot: ChatBot) -> None:
    db = _db(bot)
    steps = [
        ("相談したい", "ask_municipality"),
        ("川越市", "ask_department"),
        ("情報政策課", "ask_requester_name"),
        ("佐藤 一郎", "ask_requester_title"),
        ("課長", "ask_description"),
        ("生成AIの庁内利用ガイドラインを作りたいので相談したい", "ask_domains"),
        ("1,9", "ask_method"),
        ("2", "ask_dates"),
    ]
    for text, key in steps:
        asked = _one(await bot.say("staff1", text))
        assert asked.text == t(key), text
        assert await _cases(db) == []

    summary = _one(await bot.say("staff1", "１２月３日 午後"))
    assert _fields(summary) == {
        "団体名": "川越市",
        "部署": "情報政策課",
        "お名前": "佐藤 一郎",
        "役職": "課長",
        "分野": "組織体制の整備、自治体のAIの利用促進",
        "希望する方法": "訪問",
        "希望日時": "2026年12月3日(木) 午後",
        "相談内容": "生成AIの庁内利用ガイドラインを作りたいので相談したい",
    }
    _one(await bot.say("staff1", "1"))  # the numbered choice "この内容で申し込む"

    (case,) = await _cases(db)
    async with db.transaction() as s:
        kawagoe = await s.scalar(select(Municipality).where(Municipality.name == "川越市"))
    assert kawagoe is not None
    assert case.municipality_code == kawagoe.code
    assert case.requester_user_id is None  # typed by staff: no officer to echo to
    assert case.domains == ["組織体制の整備", "自治体のAIの利用促進"]
    assert case.preferred_method == "onsite"
    (change,) = await _history(db, case.case_no)
    assert (change.actor_user_id, change.actor_label) == (
        await _user_id(db, "staff1"),
        "佐藤 美咲",
    )


async def test_staff_first_message_naming_the_municipality_is_not_asked_again(
    bot: ChatBot,
) -> None:
    asked = _one(await bot.say("staff1", "川越市から電子申請の導入について相談がありました"))
    assert asked.text == t("ask_department")  # municipality and description already given


async def _edit(bot: ChatBot, user: str, field_no: str, answer: str) -> list[Outbound]:
    """From the summary: 修正する → field number → the new answer."""
    assert _one(await bot.say(user, "修正する")).text == t("ask_edit_field")
    await bot.say(user, field_no)
    return await bot.say(user, answer)


# Dates as officers type them, and how the summary restates them (today: Mon 2026-11-16).
RESTATED = [
    ("12月3日 午後", "2026年12月3日(木) 午後"),
    ("令和8年12月3日", "2026年12月3日(木)"),
    ("R8.12.3 14時〜16時", "2026年12月3日(木) 14:00〜16:00"),
    ("２０２６/１２/３", "2026年12月3日(木)"),
    ("2026/12/3 10:00", "2026年12月3日(木) 10:00〜"),
    ("明日", "2026年11月17日(火)"),
    ("来週火曜の午後", "2026年11月24日(火) 午後"),
    ("来週火曜か水曜の午前", "2026年11月24日(火) 午前、2026年11月25日(水) 午前"),
]

# A past date or a closed day (土日祝, 12/29–1/3) is flagged under the summary.
FLAGGED = [
    ("2026年11月10日", t("date_past", day="2026年11月10日(火)")),
    ("昨日の午後", t("date_past", day="2026年11月15日(日)")),
    ("11月21日", t("date_closed", day="2026年11月21日(土)", reason="土曜日")),
    ("11月22日", t("date_closed", day="2026年11月22日(日)", reason="日曜日")),
    ("11月23日", t("date_closed", day="2026年11月23日(月)", reason="勤労感謝の日")),
    ("12月29日", t("date_closed", day="2026年12月29日(火)", reason="年末年始")),
    ("2027年1月3日", t("date_closed", day="2027年1月3日(日)", reason="年末年始")),
    ("12月1日か12月5日の午後", t("date_closed", day="2026年12月5日(土)", reason="土曜日")),
]


async def test_dates_are_restated_and_past_or_closed_days_flagged(bot: ChatBot) -> None:
    await _to_summary(bot)
    for answer, shown in RESTATED:
        summary = _one(await _edit(bot, "officer1", "8", answer))
        assert _fields(summary)["希望日時"] == shown, answer
        assert summary.text == t("intake_summary"), answer  # neither past nor closed
    for answer, warning in FLAGGED:
        summary = _one(await _edit(bot, "officer1", "8", answer))
        assert summary.text == t("intake_summary") + "\n" + warning, answer
    assert "ご確認ください" in FLAGGED[0][1]
    # A warning, not a refusal: the officer may still confirm (or change the date).
    assert await _cases(_db(bot)) == []
    await bot.say("officer1", "申し込む")
    (case,) = await _cases(_db(bot))
    assert case.preferred_dates == ["2026年12月1日(火) 午後", "2026年12月5日(土) 午後"]


# --- numbering ---------------------------------------------------------------------------------


async def test_case_numbers_run_per_program_and_year(bot: ChatBot, clock: FixedClock) -> None:
    db = _db(bot)
    services: Any = bot.services
    async with db.transaction() as s:
        # Cases of last year and of another program do not advance this year's numbers.
        from store.profiles import load_profile
        from store.seed import seed_program

        await seed_program(s, load_profile("yamagata-2026"), clock.now())
        kwargs: dict[str, Any] = {"municipality_code": "111007", "now": clock.now()}
        for _ in range(3):
            await case_store.create(
                s,
                program_id="saitama-2026",
                prefix="SAI",
                year=2025,
                track_id="soudan",
                **kwargs,
            )
        await case_store.create(
            s, program_id="yamagata-2026", prefix="YAM", year=2026, track_id="x", **kwargs
        )
    assert services.profile.id == "saitama-2026"

    first = await _open_as_officer1(bot)
    second = await _open_as_officer1(bot)

    assert (first, second) == ("SAI-2026-0001", "SAI-2026-0002")
    assert [c.case_no for c in await _cases(db)] == [
        "SAI-2025-0001",
        "SAI-2025-0002",
        "SAI-2025-0003",
        "YAM-2026-0001",
        "SAI-2026-0001",
        "SAI-2026-0002",
    ]


async def test_duplicated_confirm_event_opens_one_case(bot: ChatBot) -> None:
    await bot.say("officer1", FIRST_MESSAGE)
    await bot.say("officer1", "わからない")
    first = await bot.say("officer1", "申し込む", event_id="Ev-confirm")
    again = await bot.say("officer1", "申し込む", event_id="Ev-confirm")
    assert "SAI-2026-0001" in _one(first).text
    assert again == []
    assert [c.case_no for c in await _cases(_db(bot))] == ["SAI-2026-0001"]


# --- the summary: confirm, change one field, cancel ------------------------------------------


@pytest.mark.parametrize("pick", ["2", "部署"], ids=["by-number", "by-label"])
async def test_change_one_field_from_the_summary(bot: ChatBot, pick: str) -> None:
    db = _db(bot)
    before = _fields(await _to_summary(bot))

    menu = _one(await bot.say("officer1", "修正する"))
    assert menu.text == t("ask_edit_field")
    assert [c.label for c in menu.choices] == [
        "団体名",
        "部署",
        "お名前",
        "役職",
        "相談内容",
        "分野",
        "希望する方法",
        "希望日時",
        "希望する専門人材",  # Saitama §6(3): officers see the roster and may name an expert
    ]
    assert _one(await bot.say("officer1", pick)).text == t("ask_department")
    summary = _one(await bot.say("officer1", "情報政策課 DX推進係"))

    assert summary.text == t("intake_summary")
    after = _fields(summary)
    assert after.pop("部署") == "情報政策課 DX推進係"
    before.pop("部署")
    assert after == before  # only that field changed
    assert await _cases(db) == []

    _one(await bot.say("officer1", "はい"))
    (case,) = await _cases(db)
    assert case.department == "情報政策課 DX推進係"
    assert case.domains == ["セキュリティ対策の徹底"]


async def test_change_the_dates_from_the_summary(bot: ChatBot) -> None:
    await _to_summary(bot)
    await bot.say("officer1", "2")  # 修正する
    await bot.say("officer1", "8")  # 希望日時
    summary = _one(await bot.say("officer1", "12月3日 10時〜12時"))
    assert _fields(summary)["希望日時"] == "2026年12月3日(木) 10:00〜12:00"
    await bot.say("officer1", "1")
    (case,) = await _cases(_db(bot))
    assert case.preferred_dates == ["2026年12月3日(木) 10:00〜12:00"]


async def test_unclear_confirmation_is_asked_again(bot: ChatBot) -> None:
    await _to_summary(bot)
    before = await _snapshot(bot, "officer1")
    replies = await bot.say("officer1", "うーん")
    assert [r.text for r in replies] == [
        "1〜3の番号か、「この内容で申し込む」のように選択肢の言葉でお答えください。",
        t("intake_summary"),
    ]
    assert await _snapshot(bot, "officer1") == before


# «やめる» and «キャンセル» at every step: before any answer, mid-way, at the municipality
# question (staff), on the summary, on the edit menu and while changing a field.
CANCEL_POINTS: list[tuple[str, list[str]]] = [
    ("officer1", ["/consult"]),
    ("officer1", [FIRST_MESSAGE]),
    ("officer1", ["/consult", "生成AIの利用について相談したい", "9"]),
    ("staff1", ["相談したい"]),
    ("staff1", ["相談したい", "川越市", "情報政策課"]),
    ("officer1", [FIRST_MESSAGE, "わからない"]),
    ("officer1", [FIRST_MESSAGE, "わからない", "修正する"]),
    ("officer1", [FIRST_MESSAGE, "わからない", "修正する", "8"]),
]


@pytest.mark.parametrize("word", ["やめる", "キャンセル"])
async def test_cancel_at_any_step_leaves_no_case(bot: ChatBot, word: str) -> None:
    db = _db(bot)
    for user, answers in CANCEL_POINTS:
        start, _ = await _snapshot(bot, user)
        for text in answers:
            await bot.say(user, text)
        assert await _conv(db, user) is not None, answers

        replies = await bot.say(user, word)

        assert [r.text for r in replies] == [t("conversation_cancelled", flow=FLOW_LABEL)]
        # No case, no history, no outbox row, no conversation left.
        assert await _snapshot(bot, user) == (start, None), answers
        # What follows is a new message, not an answer to the cancelled intake.
        await bot.say(user, "はい")
    assert await _cases(db) == []
    assert bot.sender.sent == []


async def test_cancel_button_on_the_summary(bot: ChatBot) -> None:
    start, _ = await _snapshot(bot, "officer1")
    await _to_summary(bot)
    replies = await bot.say("officer1", "3")  # the numbered "やめる"
    assert [r.text for r in replies] == [t("conversation_cancelled", flow=FLOW_LABEL)]
    assert await _snapshot(bot, "officer1") == (start, None)


# --- expiry and restart -----------------------------------------------------------------------------


async def test_abandoned_intake_expires_with_a_message_and_no_case(
    bot: ChatBot, clock: FixedClock, settings: Settings
) -> None:
    db = _db(bot)
    start, _ = await _snapshot(bot, "officer1")
    await bot.say("officer1", FIRST_MESSAGE)
    clock.advance(minutes=settings.conversation_ttl_minutes - 1)
    assert _one(await bot.say("officer1", "わからない")).text == t("intake_summary")

    clock.advance(minutes=settings.conversation_ttl_minutes + 1)
    replies = await bot.say("officer1", "申し込む")

    assert replies[0].text == t("conversation_expired", flow=FLOW_LABEL)
    assert "登録や提出は行われていません" in replies[0].text
    assert all("案件番号" not in r.text for r in replies)
    assert await _snapshot(bot, "officer1") == (start, None)
    assert await _cases(db) == []
    assert bot.sender.sent == []


async def test_intake_resumes_after_restart(
    bot: ChatBot, settings: Settings, clock: FixedClock
) -> None:
    await bot.say("staff1", "相談したい")
    await bot.say("staff1", "川越市")
    await bot.say("staff1", "情報政策課")
    await _db(bot).dispose()  # the process stops half-way

    clock.advance(hours=3)
    restarted = build_services(settings, clock=clock)  # a new process on the same database
    try:
        bot2 = ChatBot(restarted, RecordingSender())
        assert _one(await bot2.say("staff1", "佐藤 一郎")).text == t("ask_requester_title")
        for text in ("課長", "窓口のBPRについて相談したい", "13", "1"):
            await bot2.say("staff1", text)
        summary = _one(await bot2.say("staff1", "未定"))
        assert _fields(summary)["団体名"] == "川越市"
        assert _fields(summary)["部署"] == "情報政策課"
        assert _fields(summary)["希望日時"] == "未定"
        await bot2.say("staff1", "申し込む")
        (case,) = await _cases(restarted.db)
        assert (case.case_no, case.department, case.requester_name) == (
            "SAI-2026-0001",
            "情報政策課",
            "佐藤 一郎",
        )
        assert case.domains == ["BPRの取組の徹底"]
        assert case.preferred_dates == ["未定"]
    finally:
        await restarted.db.dispose()


# --- bad answers: a polite answer, nothing written -----------------------------------------------


async def _assert_refused(bot: ChatBot, user: str, text: str, expected: Sequence[str]) -> None:
    before = await _snapshot(bot, user)
    replies = await bot.say(user, text)
    assert [r.text for r in replies][: len(expected)] == list(expected)
    assert await _snapshot(bot, user) == before
    assert bot.sender.sent == []


async def test_unknown_municipality_gets_a_polite_answer(bot: ChatBot) -> None:
    assert _one(await bot.say("staff1", "/consult")).text == t("ask_municipality")
    # Not in the prefecture, the prefecture itself, noise, or no name at all.
    for name in ("存在しない村", "埼玉県", "ほげほげ", "わからない"):
        answer = t("municipality_unknown", text=name, prefecture="埼玉県")
        await _assert_refused(bot, "staff1", name, [answer])
        assert "正式な名称" in answer
    # another prefecture's is named where it is (tests/test_municipalities.py)
    sapporo = "「札幌市」は北海道の市町村のため、埼玉県の本事業では扱えません。"
    sapporo += "埼玉県内の市町村を指定してください。"
    await _assert_refused(bot, "staff1", "札幌市", [sapporo])
    # The question still stands and a real name is taken.
    assert _one(await bot.say("staff1", "川越市")).text == t("ask_department")


async def test_officer_cannot_open_for_another_municipality(bot: ChatBot) -> None:
    await _to_summary(bot)
    await bot.say("officer1", "修正する")
    await bot.say("officer1", "1")  # 団体名
    await _assert_refused(bot, "officer1", "川越市", [t("municipality_not_yours")])
    # Their own municipality is accepted, and the case is filed under it.
    assert _one(await bot.say("officer1", "さいたま市")).text == t("intake_summary")
    await bot.say("officer1", "申し込む")
    (case,) = await _cases(_db(bot))
    assert case.municipality_code == "111007"


DOMAIN_ANSWERS = [
    ("1,9", ["組織体制の整備", "自治体のAIの利用促進"]),
    ("１、９", ["組織体制の整備", "自治体のAIの利用促進"]),
    ("8", ["セキュリティ対策の徹底"]),
    ("3 13", ["方針・計画の策定", "BPRの取組の徹底"]),
    ("セキュリティ対策の徹底", ["セキュリティ対策の徹底"]),
    ("テレワークの推進、ICT-BCP", ["テレワークの推進", "ICT-BCP"]),
    ("生成AIとセキュリティ", ["自治体のAIの利用促進", "セキュリティ対策の徹底"]),
    ("わからない", []),
    ("分からない", []),
]


async def test_domains_by_number_or_name(bot: ChatBot) -> None:
    await bot.say("officer1", FIRST_MESSAGE)
    summary = _one(await bot.say("officer1", "1,9"))  # the first answer, to the question
    assert _fields(summary)["分野"] == "組織体制の整備、自治体のAIの利用促進"
    for answer, domains in DOMAIN_ANSWERS:
        summary = _one(await _edit(bot, "officer1", "6", answer))
        assert summary.text == t("intake_summary"), answer
        assert _fields(summary)["分野"] == ("、".join(domains) or "（事務局で分類）"), answer


async def test_unreadable_domains_are_refused(bot: ChatBot) -> None:
    await bot.say("officer1", FIRST_MESSAGE)
    for answer, expected in (
        ("99", "1〜15の番号か、「組織体制の整備」のように選択肢の言葉でお答えください。"),
        ("0", "1〜15の番号か、「組織体制の整備」のように選択肢の言葉でお答えください。"),
        ("ほげほげ", t("domains_unknown", count=15)),
        ("16", t("domains_unknown", count=15)),
    ):
        await _assert_refused(bot, "officer1", answer, [expected])
    assert _fields(_one(await bot.say("officer1", "8")))["分野"] == "セキュリティ対策の徹底"


async def test_method_by_number_or_word_and_refusal(bot: ChatBot) -> None:
    await bot.say("officer1", "/consult")
    await bot.say("officer1", "マイナンバーカードの利活用について相談したい")
    asked = _one(await bot.say("officer1", "7"))
    assert asked.text == t("ask_method")
    assert [(c.label, c.value) for c in asked.choices] == [
        ("オンライン", "online"),
        ("訪問", "onsite"),
        ("メール", "email"),
        ("チャット", "chat"),
        ("電話", "phone"),
    ]
    before = await _snapshot(bot, "officer1")
    replies = await bot.say("officer1", "伝書鳩")
    assert [r.text for r in replies] == [
        "1〜5の番号か、「オンライン」のように選択肢の言葉でお答えください。",
        t("ask_method"),
    ]
    assert await _snapshot(bot, "officer1") == before
    assert _one(await bot.say("officer1", "3")).text == t("ask_dates")
    summary = _one(await bot.say("officer1", "未定"))
    assert _fields(summary)["希望する方法"] == "メール"


async def test_unreadable_dates_are_refused(bot: ChatBot) -> None:
    await bot.say("officer1", "/consult")
    for text in ("マイナンバーカードの利活用について相談したい", "7", "1"):
        await bot.say("officer1", text)
    await _assert_refused(bot, "officer1", "そのうち", [t("dates_unreadable", text="そのうち")])
    assert _fields(_one(await bot.say("officer1", "未定")))["希望日時"] == "未定"


async def test_too_long_answer_is_refused(bot: ChatBot) -> None:
    await bot.say("staff1", "/consult")
    await bot.say("staff1", "川越市")
    await _assert_refused(bot, "staff1", "課" * 61, [t("answer_too_long", label="部署", limit=60)])


async def test_roles_that_cannot_open_a_case(bot: ChatBot) -> None:
    for user, role in (("pref1", "県職員"), ("expert1", "専門人材")):
        await _assert_refused(bot, user, "/consult", [t("forbidden", role=role)])
        assert await _conv(_db(bot), user) is None


# --- the lifecycle ---------------------------------------------------------------------------------


async def _move(bot: ChatBot, case_no: str, to: str, *, label: str = "自動") -> None:
    """A change made outside the chat (the follow-up journey, the CLI)."""
    services: Any = bot.services
    async with services.db.transaction() as s:
        ctx = system_context(services, s, label)
        case = await case_store.get_by_no(s, case_no)
        assert case is not None
        await lifecycle.change_status(ctx, case, to)
    await bot.deliver()


async def _status(bot: ChatBot, case_no: str) -> str:
    return (await _case(_db(bot), case_no)).status


async def _new_case(bot: ChatBot, clock: FixedClock) -> str:
    """An officer1 case straight in the store (intake itself is tested above)."""
    db = _db(bot)
    officer = await _user_id(db, "officer1")
    async with db.transaction() as s:
        case = await case_store.create(
            s,
            program_id="saitama-2026",
            prefix="SAI",
            year=2026,
            track_id="soudan",
            municipality_code="111007",
            now=clock.now(),
            requester_user_id=officer,
            description="テスト",
        )
        return case.case_no


# (how far the case went, the staff command, the status it ends in)
ALLOWED = [
    ([], "/dx hold {case} 予算確定待ち", "on_hold"),
    ([], "/dx withdraw {case} 庁内で解決", "withdrawn"),
    (["on_hold"], "/dx resume {case}", "received"),
    (["on_hold"], "/dx withdraw {case}", "withdrawn"),
    (["coordinating"], "/dx hold {case}", "on_hold"),
    (["coordinating", "scheduled"], "/dx withdraw {case}", "withdrawn"),
    (["coordinating", "scheduled", "held", "reported"], "/dx close {case}", "closed"),
]


async def test_allowed_transitions(bot: ChatBot, clock: FixedClock) -> None:
    for path, command, expected_to in ALLOWED:
        case_no = await _new_case(bot, clock)
        for to in path:
            await _move(bot, case_no, to)
        frm = await _status(bot, case_no)

        replies = await bot.say("staff1", command.format(case=case_no))

        assert await _status(bot, case_no) == expected_to, command
        last = (await _history(_db(bot), case_no))[-1]
        assert (last.from_status, last.to_status, last.actor_label) == (
            frm,
            expected_to,
            "佐藤 美咲",
        )
        done = (
            t("case_withdrawn", case_no=case_no)
            if expected_to == "withdrawn"
            else t("status_resumed", case_no=case_no, to=case_store.STATUSES[expected_to])
            if "resume" in command
            else t("status_set", case_no=case_no, to=case_store.STATUSES[expected_to])
        )
        assert [r.text for r in replies] == [done]


# (how far the case went, the refused command, the target's label, what the answer offers)
ILLEGAL = [
    ([], "/dx close {case}", "完了", "調整中、保留、取下げ"),
    # 調整中: where a case goes back when its only session is cancelled (handlers/sessions.py)
    (["coordinating", "scheduled", "held"], "/dx withdraw {case}", "取下げ",
     "調整中、実施予定、報告済"),
    (["withdrawn"], "/dx hold {case}", "保留", "なし"),
    (["withdrawn"], "/dx withdraw {case}", "取下げ", "なし"),
    (["on_hold"], "/dx hold {case}", "保留", "受付、調整中、実施予定、取下げ"),
]  # fmt: skip


async def test_illegal_transitions_are_refused_with_the_reason(
    bot: ChatBot, clock: FixedClock
) -> None:
    for path, command, to_label, allowed in ILLEGAL:
        case_no = await _new_case(bot, clock)
        for to in path:
            await _move(bot, case_no, to)
        status = await _status(bot, case_no)
        bot.sender.sent.clear()
        before = await _snapshot(bot, "staff1")

        replies = await bot.say("staff1", command.format(case=case_no))

        frm = case_store.STATUSES[status]
        assert [r.text for r in replies] == [
            t("illegal_transition", case_no=case_no, frm=frm, to=to_label, allowed=allowed)
        ], command
        assert await _snapshot(bot, "staff1") == before  # no history row, no notification
        assert await _status(bot, case_no) == status
        assert bot.sender.sent == []


async def test_resume_on_a_case_not_on_hold_says_so(bot: ChatBot, clock: FixedClock) -> None:
    for path in ([], ["coordinating", "scheduled", "held", "reported", "closed"]):
        case_no = await _new_case(bot, clock)
        for to in path:
            await _move(bot, case_no, to)
        status = await _status(bot, case_no)
        replies = await bot.say("staff1", f"/dx resume {case_no}")
        assert [r.text for r in replies] == [
            t("resume_not_on_hold", case_no=case_no, status=case_store.STATUSES[status])
        ]
        assert await _status(bot, case_no) == status


async def test_every_change_is_recorded_and_notified(bot: ChatBot) -> None:
    db = _db(bot)
    case_no = await _open_as_officer1(bot)
    bot.sender.sent.clear()

    await bot.say("staff1", f"/dx hold {case_no} 予算確定待ち")
    await bot.say("staff1", f"/dx resume {case_no}")
    for to in ("coordinating", "scheduled", "held", "reported"):
        await _move(bot, case_no, to)
    await bot.say("staff1", f"/dx close {case_no}")

    staff_id = await _user_id(db, "staff1")
    rows = [
        (h.from_status, h.to_status, h.actor_user_id, h.actor_label, h.reason)
        for h in await _history(db, case_no)
    ]
    assert rows == [
        (None, "received", await _user_id(db, "officer1"), "山田 花子", ""),
        ("received", "on_hold", staff_id, "佐藤 美咲", "予算確定待ち"),
        ("on_hold", "received", staff_id, "佐藤 美咲", ""),
        ("received", "coordinating", None, "自動", ""),
        ("coordinating", "scheduled", None, "自動", ""),
        ("scheduled", "held", None, "自動", ""),
        ("held", "reported", None, "自動", ""),
        ("reported", "closed", staff_id, "佐藤 美咲", ""),
    ]
    history = await _history(db, case_no)
    assert all(h.at is not None for h in history)

    def notice(frm: str, to: str, actor: str, reason: str = "") -> str:
        return t("status_changed", case_no=case_no, frm=frm, to=to, actor=actor, reason=reason)

    expected_channel = [
        notice("受付", "保留", "佐藤 美咲", "・理由: 予算確定待ち"),
        notice("保留", "受付", "佐藤 美咲"),
        notice("受付", "調整中", "自動"),
        notice("調整中", "実施予定", "自動"),
        notice("実施予定", "実施済(報告待ち)", "自動"),
        notice("実施済(報告待ち)", "報告済", "自動"),
        notice("報告済", "完了", "佐藤 美咲"),
    ]
    assert bot.sender.texts(STAFF_CHANNEL) == expected_channel
    assert bot.sender.texts(PREF_CHANNEL) == expected_channel
    # The officer hears of acceptance, scheduling, the report and the close, the hold and its
    # end, not of the internal 実施済 step.
    assert bot.sender.texts("officer1") == [
        t("officer_told_on_hold", case_no=case_no),
        t("officer_told_resumed", case_no=case_no, status="受付"),
        t("officer_told_coordinating", case_no=case_no),
        t("officer_told_scheduled", case_no=case_no),
        t("officer_told_reported", case_no=case_no),
        t("officer_told_closed", case_no=case_no),
    ]
    targets = {(k, target) for k, target, _ in bot.sender.sent}
    assert targets == {
        ("channel", STAFF_CHANNEL),
        ("channel", PREF_CHANNEL),
        ("user", "officer1"),
    }


async def test_officer_withdraws_own_case(bot: ChatBot) -> None:
    case_no = await _open_as_officer1(bot)
    bot.sender.sent.clear()
    replies = await bot.say("officer1", f"/dx withdraw {case_no}")
    assert [r.text for r in replies] == [t("case_withdrawn", case_no=case_no)]
    last = (await _history(_db(bot), case_no))[-1]
    assert (last.to_status, last.actor_label, last.reason) == (
        "withdrawn",
        "山田 花子",
        "申請者による取下げ",
    )
    assert len(bot.sender.texts(STAFF_CHANNEL)) == len(bot.sender.texts(PREF_CHANNEL)) == 1
    assert bot.sender.texts("officer1") == []  # they did it themselves


async def test_officer_of_another_municipality_cannot_see_or_withdraw(bot: ChatBot) -> None:
    await _open_as_officer1(bot)
    bot.sender.sent.clear()
    for case_no in ("SAI-2026-0001", "sai-2026-0001", "SAI-2026-9999"):
        before = await _snapshot(bot, "officer2")

        replies = await bot.say("officer2", f"/dx withdraw {case_no}")

        # The same answer as for a number that does not exist: nothing is revealed.
        assert [r.text for r in replies] == [t("case_not_found", case_no=case_no)]
        assert await _snapshot(bot, "officer2") == before
    assert await _status(bot, "SAI-2026-0001") == "received"
    assert bot.sender.sent == []


async def _load_as(bot: ChatBot, platform_id: str, case_no: str) -> Case:
    """What ``/status CASE`` and every case command see: ``lifecycle.load_case_for``."""
    services: Any = bot.services
    async with services.db.transaction() as s:
        user = await users.get_by_platform_id(s, "console", platform_id)
        assert user is not None
        actor = Actor(
            user_id=user.id,
            platform="console",
            platform_id=platform_id,
            role=Role(user.role),
            name=user.name,
            municipality_code=user.municipality_code,
        )
        ctx = Context(
            s=s,
            db=services.db,
            clock=services.clock,
            settings=services.settings,
            profile=services.profile,
            actor=actor,
            inbound=Inbound(platform="console", event_id="look", user_id=platform_id),
            notifier=Notifier(s, services.clock, services.settings, "console"),
            calendar=services.calendar,
            llm=services.llm,
        )
        return await lifecycle.load_case_for(ctx, case_no)


async def test_who_sees_a_case(bot: ChatBot) -> None:
    case_no = await _open_as_officer1(bot)
    db = _db(bot)
    async with db.transaction() as s:
        case = await case_store.get_by_no(s, case_no)
        assert case is not None
        expert = await users.get_by_platform_id(s, "console", "expert1")
        assert expert is not None
        case.approved_expert_user_id = expert.id

    for who in ("officer1", "staff1", "pref1", "admin1", "expert1"):
        assert (await _load_as(bot, who, case_no)).case_no == case_no, who
    for who in ("officer2", "expert2"):
        with pytest.raises(UserError) as refused:
            await _load_as(bot, who, case_no)
        assert refused.value.render() == t("case_not_found", case_no=case_no), who


async def test_expert_cannot_change_a_case(bot: ChatBot) -> None:
    case_no = await _open_as_officer1(bot)
    before = await _snapshot(bot, "expert1")
    replies = await bot.say("expert1", f"/dx withdraw {case_no}")
    assert [r.text for r in replies] == [t("forbidden", role="専門人材")]
    assert await _snapshot(bot, "expert1") == before


# --- what the first message says, and what it does not -------------------------------------------


async def test_an_email_address_is_no_domain_hint(bot: ChatBot) -> None:
    # "ai" inside city.saitama.lg.jp once made every such message an AI consultation.
    asked = _one(
        await bot.say(
            "officer1",
            "窓口の書かない申請について相談したいです。連絡は yamada@city.saitama.lg.jp まで",
        )
    )
    assert asked.text == t("ask_method")  # the domain was found: フロントヤード改革
    await bot.say("officer1", "1")
    summary = _one(await bot.say("officer1", "未定"))
    assert _fields(summary)["分野"] == "自治体フロントヤード改革"


async def test_ambiguous_place_name_is_asked(bot: ChatBot, db_url: str, clock: FixedClock) -> None:
    """In Yamagata, 「山形」 may be 山形県 or 山形市: staff are asked which one is meant."""
    from store.profiles import load_profile
    from store.seed import seed_program

    yamagata = build_services(
        Settings(_env_file=None, DATABASE_URL=db_url, DXBOT_PROGRAM="yamagata-2026"),  # type: ignore[call-arg]
        clock=clock,
    )
    try:
        async with yamagata.db.transaction() as s:
            await seed_program(s, load_profile("yamagata-2026"), clock.now())
        ybot = ChatBot(yamagata, RecordingSender())

        asked = _one(await ybot.say("staff1", "山形の電子申請の件で相談があります"))

        assert asked.text == t("ask_municipality_ambiguous", prefecture="山形県")
        assert [c.label for c in asked.choices] == ["山形市", t("municipality_other")]
        assert _one(await ybot.say("staff1", "2")).text == t("ask_municipality")
        await _assert_refused(
            ybot,
            "staff1",
            "蔵王村",
            [t("municipality_unknown", text="蔵王村", prefecture="山形県")],
        )
        assert _one(await ybot.say("staff1", "天童市")).text == t("ask_department")
        # Or the city it was after all.
        await ybot.say("staff1", "キャンセル")
        await ybot.say("staff1", "山形の電子申請の件で相談があります")
        assert _one(await ybot.say("staff1", "1")).text == t("ask_department")
    finally:
        await yamagata.db.dispose()
