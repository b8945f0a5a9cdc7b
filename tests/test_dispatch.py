"""The dispatcher boundary and the persisted conversation engine, through the chat harness.

Each test talks to the bot the way a user does (``bot.say``) and then looks at what the database
holds: a refusal or a crash leaves nothing behind, a duplicate changes nothing, a conversation
survives a restart and expires or is cancelled without a trace.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.app import build_services
from bot.core.catalog import t
from bot.core.config import Settings
from bot.core.context import Context
from bot.core.conversation import Conversation, is_cancel
from bot.core.errors import UserError
from bot.core.messages import Choice, Outbound
from reminders.clock import FixedClock
from store import ack_spool, audit, conversations, events, inbox, outbox, users
from store.db import Database
from store.models import AuditEntry, Base, ConversationState, ProcessedEvent, User
from tests.conftest import ChatBot, RecordingSender

FLOW = "testflow"
LABEL = "テスト手続き"
COLORS = (("赤", "red"), ("青", "blue"), ("緑", "green"))


# --- helpers -------------------------------------------------------------------------------------


async def _counts(db: Database) -> dict[str, int]:
    out: dict[str, int] = {}
    async with db.transaction() as s:
        for table in Base.metadata.sorted_tables:
            out[table.name] = int(await s.scalar(select(func.count()).select_from(table)) or 0)
    return out


async def _state(db: Database, user: str) -> ConversationState | None:
    async with db.transaction() as s:
        return await conversations.get(s, "console", user, "")


async def _audit(db: Database) -> list[AuditEntry]:
    """What the test flow recorded (seeding and adding people are audited too)."""
    async with db.transaction() as s:
        return list(
            (
                await s.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.action == "testflow_done")
                    .order_by(AuditEntry.id)
                )
            ).all()
        )


class TwoStepFlow:
    """A tiny flow: pick a colour from numbered choices, give a name, and it is recorded."""

    name = FLOW
    label = LABEL

    async def start(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        conv.goto("color")
        return [
            Outbound(
                text="色を選んでください。",
                choices=tuple(Choice(label=lb, value=v) for lb, v in COLORS),
            )
        ]

    async def on_input(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        if conv.step == "color":
            if text not in {v for _, v in COLORS}:
                return [Outbound(text="一覧から選んでください。")]
            conv.data["color"] = text
            conv.goto("name")
            return [Outbound(text="お名前を入力してください。")]
        await audit.record(
            ctx.s,
            at=ctx.now(),
            actor=ctx.actor.platform_id,
            action="testflow_done",
            detail={"color": conv.data["color"], "name": text},
        )
        conv.finish()
        return [Outbound(text=f"受け付けました: {conv.data['color']} / {text}")]


def install_flow(services: object) -> None:
    router = services.router  # type: ignore[attr-defined]
    router.engine.flows[FLOW] = TwoStepFlow()

    async def begin(ctx: Context, args: str) -> list[Outbound]:
        return await router.engine.begin(ctx, FLOW, args)

    router.dx_command(FLOW, begin)


@pytest.fixture
def flow_bot(bot: ChatBot) -> ChatBot:
    install_flow(bot.services)
    return bot


# --- duplicates ----------------------------------------------------------------------------------


async def test_duplicate_event_is_handled_once(bot: ChatBot) -> None:
    first = await bot.say("officer1", "こんにちは", event_id="Ev-1")
    assert "山田 花子さん" in first[0].text
    before = await _counts(bot.services.db)  # type: ignore[attr-defined]
    assert before["processed_events"] == 1

    again = await bot.say("officer1", "こんにちは", event_id="Ev-1")

    assert again == []
    assert await _counts(bot.services.db) == before  # type: ignore[attr-defined]


async def test_duplicate_event_does_not_advance_a_conversation(flow_bot: ChatBot) -> None:
    db: Database = flow_bot.services.db  # type: ignore[attr-defined]
    await flow_bot.say("officer1", f"/dx {FLOW}")
    await flow_bot.say("officer1", "1", event_id="Ev-answer")
    state = await _state(db, "officer1")
    assert state is not None and state.step == "name"
    before = await _counts(db)

    # The platform re-delivers the answer: had it been handled again, "1" would be the name.
    assert await flow_bot.say("officer1", "1", event_id="Ev-answer") == []

    assert await _counts(db) == before
    state = await _state(db, "officer1")
    assert state is not None and state.step == "name" and state.data["color"] == "red"
    assert await _audit(db) == []


async def test_concurrent_duplicate_deliveries_handled_once(bot: ChatBot) -> None:
    """Slack retries an event it did not see acknowledged: both copies arrive at once."""
    router = bot.services.router  # type: ignore[attr-defined]
    db: Database = bot.services.db  # type: ignore[attr-defined]

    async def slow(ctx: Context, args: str) -> list[Outbound]:
        await ctx.notifier.to_staff(Outbound(text="slow work done"))
        await asyncio.sleep(0.05)
        return [Outbound(text="done")]

    router.dx_command("slow", slow)
    results = await asyncio.gather(
        bot.say("staff1", "/dx slow", event_id="Ev-dup"),
        bot.say("staff1", "/dx slow", event_id="Ev-dup"),
    )

    assert sorted(len(r) for r in results) == [0, 1]
    assert [[o.text for o in r] for r in results if r] == [["done"]]
    counts = await _counts(db)
    assert counts["processed_events"] == 1
    assert counts["outbox"] == 1
    assert bot.sender.texts() == ["slow work done"]


# SQLite only: on PostgreSQL the id is claimed first, and a second claim waits for this one.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_copy_claimed_by_another_process_during_the_handling_changes_nothing(
    bot: ChatBot,
) -> None:
    """On SQLite the event id is claimed at the end of the handling: a copy handled meanwhile
    elsewhere (a lease taken over) is found there, and this handling's work is rolled back."""
    db: Database = bot.services.db  # type: ignore[attr-defined]
    assert db.dialect == "sqlite"

    async def raced(ctx: Context, args: str) -> list[Outbound]:
        async with db.transaction() as other:  # another connection: as another process would
            assert await events.claim(other, "console", "Ev-raced", ctx.now())
        await _write_things(ctx, "raced1")
        return [Outbound(text="done")]

    bot.services.router.dx_command("raced", raced)  # type: ignore[attr-defined]
    before = await _counts(db)

    assert await bot.say("staff1", "/dx raced", event_id="Ev-raced") == []

    after = await _counts(db)
    assert after.pop("processed_events") == before.pop("processed_events") + 1
    assert after == before  # the user and the notice of the losing copy are gone
    assert bot.sender.sent == []


# SQLite only: PostgreSQL has no lock shared by the acks and the handlings.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_delivery_is_stored_while_a_handling_only_reads(
    bot: ChatBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite an ack (the inbox write) does not wait for a handling that has written nothing
    yet: the handling takes the write lock for its claim and its replies only."""
    db: Database = bot.services.db  # type: ignore[attr-defined]
    assert db.dialect == "sqlite"
    monkeypatch.setattr(ack_spool, "LOCK_PATIENCE", 0.0)  # locked: fail at once, no retry
    stored: list[bool] = []

    async def reads(ctx: Context, args: str) -> list[Outbound]:
        appender = inbox.Appender(db)
        delivery = inbox.Delivery("slack", "Ev-meanwhile", "U1", "message", "{}")
        stored.extend(await appender.add_many([delivery], ctx.now()))
        await appender.close()
        return [Outbound(text="read")]

    bot.services.router.dx_command("reads", reads)  # type: ignore[attr-defined]

    assert [r.text for r in await bot.say("staff1", "/dx reads")] == ["read"]
    assert stored == [True]


async def test_a_crash_after_a_first_write_in_a_savepoint_leaves_nothing(bot: ChatBot) -> None:
    """A handler whose first write is made in a savepoint (a keyed outbox message): on SQLite
    that savepoint must not open the transaction its release would commit."""
    db: Database = bot.services.db  # type: ignore[attr-defined]

    async def keyed(ctx: Context, args: str) -> list[Outbound]:
        await outbox.enqueue(
            ctx.s,
            target_kind="dm",
            target="staff1",
            platform="console",
            payload=Outbound(text="keyed").to_payload(),
            now=ctx.now(),
            dedupe_key="test:keyed",
        )
        raise RuntimeError("a bug after the first write")

    bot.services.router.dx_command("keyed", keyed)  # type: ignore[attr-defined]
    before = await _counts(db)

    assert [r.text for r in await bot.say("staff1", "/dx keyed")] == [t("internal_error")]

    assert await _counts(db) == before
    assert bot.sender.sent == []


# --- identity and input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "platform"),
    [("U0UNKNOWN1", "console"), ("officer1", "slack")],
    ids=["unregistered", "registered-on-another-platform"],
)
async def test_unknown_user_is_asked_to_register(bot: ChatBot, user: str, platform: str) -> None:
    db: Database = bot.services.db  # type: ignore[attr-defined]
    before = await _counts(db)

    replies = await bot.say(user, "相談したい", platform=platform)

    assert [r.text for r in replies] == [t("unknown_user", platform_id=user)]
    assert user in replies[0].text and "利用者登録" in replies[0].text
    after = await _counts(db)
    assert after.pop("processed_events") == before.pop("processed_events") + 1
    assert after == before  # no conversation, no outbox, no user
    assert bot.sender.sent == []


async def test_removed_user_is_unknown(bot: ChatBot) -> None:
    db: Database = bot.services.db  # type: ignore[attr-defined]
    async with db.transaction() as s:
        await users.remove(s, "console", "officer1")
    replies = await bot.say("officer1", "こんにちは")
    assert len(replies) == 1 and "利用者登録" in replies[0].text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/foo", t("unknown_command", command="/foo")),
        ("/FOO bar", t("unknown_command", command="/foo")),
        ("/dx nonsense", t("unknown_dx_subcommand", sub="nonsense")),
        ("/dx nonsense extra words", t("unknown_dx_subcommand", sub="nonsense")),
    ],
)
async def test_unknown_commands_are_named(bot: ChatBot, text: str, expected: str) -> None:
    replies = await bot.say("staff1", text)
    assert [r.text for r in replies] == [expected]
    assert "/dx help" in expected


@pytest.mark.parametrize("text", ["", " \n\t ", "\x00\x07\x1b"])
async def test_empty_message(bot: ChatBot, text: str) -> None:
    db: Database = bot.services.db  # type: ignore[attr-defined]
    replies = await bot.say("officer1", text)
    assert [r.text for r in replies] == [t("empty_message")]
    assert "空" in replies[0].text
    assert (await _counts(db))["processed_events"] == 0


async def test_very_long_message_refused_and_nothing_written(flow_bot: ChatBot) -> None:
    db: Database = flow_bot.services.db  # type: ignore[attr-defined]
    settings: Settings = flow_bot.services.settings  # type: ignore[attr-defined]
    await flow_bot.say("officer1", f"/dx {FLOW}")
    await flow_bot.say("officer1", "2")
    before = await _counts(db)
    state_before = await _state(db, "officer1")

    replies = await flow_bot.say("officer1", "あ" * 20_000)

    assert len(replies) == 1
    assert "20,000" in replies[0].text
    assert f"{settings.max_message_chars:,}" in replies[0].text
    assert await _counts(db) == before
    state = await _state(db, "officer1")
    assert state is not None and state_before is not None
    assert (state.step, state.data, state.updated_at) == (
        state_before.step,
        state_before.data,
        state_before.updated_at,
    )


async def test_long_message_from_stranger_writes_nothing(bot: ChatBot) -> None:
    db: Database = bot.services.db  # type: ignore[attr-defined]
    before = await _counts(db)
    replies = await bot.say("officer1", "x" * 20_000)
    assert "20,000" in replies[0].text
    assert await _counts(db) == before
    assert before["conversation_states"] == 0


@pytest.mark.parametrize(("extra", "accepted"), [(0, True), (1, False)])
async def test_length_limit_is_inclusive(bot: ChatBot, extra: int, accepted: bool) -> None:
    limit = bot.services.settings.max_message_chars  # type: ignore[attr-defined]
    replies = await bot.say("officer1", "相談" + "あ" * (limit - 2 + extra))
    too_long = t("message_too_long", length=limit + extra, limit=limit)
    assert (replies[0].text != too_long) is accepted


async def test_control_characters_are_stripped(bot: ChatBot) -> None:
    plain = await bot.say("officer1", "こんにちは")
    dirty = await bot.say("officer1", "\x00\x07こんにちは\x1b\u202e")
    assert [r.text for r in dirty] == [r.text for r in plain]
    assert "山田 花子さん" in dirty[0].text


# --- errors inside handlers --------------------------------------------------------------------------


async def _write_things(ctx: Context, platform_id: str) -> None:
    await users.add(ctx.s, platform="console", platform_id=platform_id, role="staff", now=ctx.now())
    await ctx.notifier.to_staff(Outbound(text=f"{platform_id} が登録されました"))


async def test_handler_crash_rolls_back_and_answers_politely(bot: ChatBot) -> None:
    db: Database = bot.services.db  # type: ignore[attr-defined]
    calls = 0

    async def boom(ctx: Context, args: str) -> list[Outbound]:
        nonlocal calls
        calls += 1
        await _write_things(ctx, f"ghost{calls}")
        if calls == 1:
            raise RuntimeError("a bug in a handler")
        return [Outbound(text="ok")]

    bot.services.router.dx_command("boom", boom)  # type: ignore[attr-defined]
    before = await _counts(db)

    replies = await bot.say("staff1", "/dx boom", event_id="Ev-boom")

    assert [r.text for r in replies] == [t("internal_error")]
    assert await _counts(db) == before  # the user, the outbox row and the event claim are gone
    async with db.transaction() as s:
        assert await s.scalar(select(User).where(User.platform_id == "ghost1")) is None
    assert bot.sender.sent == []

    # The platform retries the same event after the failure: it is handled, not dropped.
    retry = await bot.say("staff1", "/dx boom", event_id="Ev-boom")
    assert [r.text for r in retry] == ["ok"]
    assert bot.sender.texts() == ["ghost2 が登録されました"]


async def test_user_error_rolls_back_the_handler_but_counts_the_event(bot: ChatBot) -> None:
    db: Database = bot.services.db  # type: ignore[attr-defined]

    async def refuse(ctx: Context, args: str) -> list[Outbound]:
        await _write_things(ctx, "refused1")
        raise UserError("forbidden", role="市町村職員")

    bot.services.router.dx_command("refuse", refuse)  # type: ignore[attr-defined]
    before = await _counts(db)

    replies = await bot.say("staff1", "/dx refuse", event_id="Ev-refuse")

    assert [r.text for r in replies] == [t("forbidden", role="市町村職員")]
    after = await _counts(db)
    assert after.pop("processed_events") == before.pop("processed_events") + 1
    assert after == before
    async with db.transaction() as s:
        assert await s.get(ProcessedEvent, ("console", "Ev-refuse")) is not None
    assert bot.sender.sent == []
    assert await bot.say("staff1", "/dx refuse", event_id="Ev-refuse") == []


# --- the conversation engine ---------------------------------------------------------------------


async def test_flow_runs_to_the_end_and_leaves_no_state(flow_bot: ChatBot) -> None:
    db: Database = flow_bot.services.db  # type: ignore[attr-defined]
    first = await flow_bot.say("officer1", f"/dx {FLOW}")
    assert [c.value for c in first[0].choices] == ["red", "blue", "green"]
    await flow_bot.say("officer1", "blue")
    done = await flow_bot.say("officer1", "山田")
    assert [r.text for r in done] == ["受け付けました: blue / 山田"]
    assert await _state(db, "officer1") is None
    assert [e.detail for e in await _audit(db)] == [{"color": "blue", "name": "山田"}]


async def test_conversation_resumes_after_restart(
    flow_bot: ChatBot, settings: Settings, clock: FixedClock
) -> None:
    await flow_bot.say("officer1", f"/dx {FLOW}")
    await flow_bot.say("officer1", "3")
    await flow_bot.services.db.dispose()  # type: ignore[attr-defined]  # the process stops

    clock.advance(minutes=30)
    restarted = build_services(settings, clock=clock)  # a new process on the same database
    try:
        install_flow(restarted)
        bot2 = ChatBot(restarted, RecordingSender())
        done = await bot2.say("officer1", "山田")
        assert [r.text for r in done] == ["受け付けました: green / 山田"]
        assert [e.detail for e in await _audit(restarted.db)] == [
            {"color": "green", "name": "山田"}
        ]
        assert await _state(restarted.db, "officer1") is None
    finally:
        await restarted.db.dispose()


async def test_a_command_mid_conversation_keeps_the_conversation(flow_bot: ChatBot) -> None:
    db: Database = flow_bot.services.db  # type: ignore[attr-defined]
    await flow_bot.say("officer1", f"/dx {FLOW}")
    await flow_bot.say("officer1", "1")
    helped = await flow_bot.say("officer1", "/dx help")
    assert "市町村職員としてできること" in helped[0].text
    state = await _state(db, "officer1")
    assert state is not None and state.step == "name" and state.data["color"] == "red"
    done = await flow_bot.say("officer1", "山田")
    assert done[0].text == "受け付けました: red / 山田"


async def test_conversations_are_per_user(flow_bot: ChatBot) -> None:
    await flow_bot.say("officer1", f"/dx {FLOW}")
    await flow_bot.say("officer2", f"/dx {FLOW}")
    await flow_bot.say("officer1", "1")
    await flow_bot.say("officer2", "2")
    a = await flow_bot.say("officer1", "山田")
    b = await flow_bot.say("officer2", "高橋")
    assert a[0].text == "受け付けました: red / 山田"
    assert b[0].text == "受け付けました: blue / 高橋"


@pytest.mark.parametrize("word", ["キャンセル", "やめる"])
@pytest.mark.parametrize("answers", [[], ["1"]], ids=["at-first-step", "at-second-step"])
async def test_cancel_at_any_step_persists_nothing(
    flow_bot: ChatBot, word: str, answers: list[str]
) -> None:
    db: Database = flow_bot.services.db  # type: ignore[attr-defined]
    await flow_bot.say("officer1", f"/dx {FLOW}")
    for a in answers:
        await flow_bot.say("officer1", a)
    assert await _state(db, "officer1") is not None

    replies = await flow_bot.say("officer1", word)

    assert [r.text for r in replies] == [t("conversation_cancelled", flow=LABEL)]
    assert await _state(db, "officer1") is None
    assert await _audit(db) == []
    # What comes next is not taken as an answer to the cancelled flow.
    after = await flow_bot.say("officer1", "山田")
    assert "受け付けました" not in after[0].text
    assert await _audit(db) == []


@pytest.mark.parametrize(
    ("text", "cancels"),
    [
        ("キャンセル", True),
        ("やめる", True),
        ("やめます。", True),
        (" 中止！", True),
        ("Cancel", True),
        ("キャンセル料について相談したい", False),
        ("やめるべきか迷っています", False),
    ],
)
def test_cancel_words(text: str, cancels: bool) -> None:
    assert is_cancel(text) is cancels


async def test_cancel_with_nothing_to_cancel(bot: ChatBot) -> None:
    replies = await bot.say("officer1", "キャンセル")
    assert [r.text for r in replies] == [t("nothing_to_cancel")]


async def test_expired_conversation_is_dropped_politely(
    flow_bot: ChatBot, clock: FixedClock, settings: Settings
) -> None:
    db: Database = flow_bot.services.db  # type: ignore[attr-defined]
    ttl = settings.conversation_ttl_minutes
    await flow_bot.say("officer1", f"/dx {FLOW}")
    clock.advance(minutes=ttl - 1)
    await flow_bot.say("officer1", "1")  # in time: each answer keeps the conversation alive
    state = await _state(db, "officer1")
    assert state is not None and state.step == "name"

    clock.advance(minutes=ttl + 1)
    replies = await flow_bot.say("officer1", "山田")

    assert replies[0].text == t("conversation_expired", flow=LABEL)
    assert all("受け付けました" not in r.text for r in replies)
    assert await _state(db, "officer1") is None
    assert await _audit(db) == []
    assert (await _counts(db))["conversation_states"] == 0


async def test_numbered_choice_maps_to_the_offered_choice(flow_bot: ChatBot) -> None:
    db: Database = flow_bot.services.db  # type: ignore[attr-defined]
    await flow_bot.say("officer1", f"/dx {FLOW}")
    await flow_bot.say("officer1", "２")  # full-width digits typed on a Japanese keyboard
    state = await _state(db, "officer1")
    assert state is not None and state.data["color"] == "blue"


@pytest.mark.parametrize("number", ["0", "4"])
async def test_out_of_range_number_is_refused(flow_bot: ChatBot, number: str) -> None:
    db: Database = flow_bot.services.db  # type: ignore[attr-defined]
    await flow_bot.say("officer1", f"/dx {FLOW}")
    before = await _state(db, "officer1")

    replies = await flow_bot.say("officer1", number)

    assert [r.text for r in replies] == [
        "1〜3の番号か、「赤」のように選択肢の言葉でお答えください。"
    ]
    after = await _state(db, "officer1")
    assert before is not None and after is not None
    assert (after.step, after.data) == (before.step, before.data)
    # The user can still answer properly.
    await flow_bot.say("officer1", "1")
    state = await _state(db, "officer1")
    assert state is not None and state.data["color"] == "red"


async def test_button_value_is_taken_as_is(flow_bot: ChatBot) -> None:
    db: Database = flow_bot.services.db  # type: ignore[attr-defined]
    await flow_bot.say("officer1", f"/dx {FLOW}")
    await flow_bot.say("officer1", "", kind="action", action_id="choice", value="green")
    state = await _state(db, "officer1")
    assert state is not None and state.data["color"] == "green"


@pytest.mark.parametrize(("typed", "color"), [("緑", "green"), (" 赤。", "red"), ("２番", "blue")])
async def test_a_label_or_a_number_answers_the_choice(
    flow_bot: ChatBot, typed: str, color: str
) -> None:
    db: Database = flow_bot.services.db  # type: ignore[attr-defined]
    await flow_bot.say("officer1", f"/dx {FLOW}")
    replies = await flow_bot.say("officer1", typed)
    assert [r.text for r in replies] == ["お名前を入力してください。"]
    state = await _state(db, "officer1")
    assert state is not None and state.data["color"] == color


async def test_a_word_that_names_no_choice_reaches_the_flow(flow_bot: ChatBot) -> None:
    """Flows also take free answers, so text that is not a choice is theirs to judge."""
    await flow_bot.say("officer1", f"/dx {FLOW}")
    replies = await flow_bot.say("officer1", "紫")
    assert [r.text for r in replies] == ["一覧から選んでください。"]


async def test_a_conversation_saved_before_labels_were_kept_still_takes_numbers(
    flow_bot: ChatBot, clock: FixedClock
) -> None:
    """States persisted by the previous release hold the choices' values only."""
    db: Database = flow_bot.services.db  # type: ignore[attr-defined]
    await flow_bot.say("officer1", f"/dx {FLOW}")
    async with db.transaction() as s:
        await conversations.save(
            s,
            platform="console",
            user_platform_id="officer1",
            thread_key="",
            channel="D-officer1",
            flow=FLOW,
            step="color",
            data={"_choices": ["red", "blue", "green"]},
            expires_at=clock.now() + dt.timedelta(minutes=30),
            now=clock.now(),
        )
    await flow_bot.say("officer1", "3")
    state = await _state(db, "officer1")
    assert state is not None and state.data["color"] == "green"
