"""`/dx help` and the greeting: each role is told what it can do."""

from __future__ import annotations

import re

from bot.core.catalog import MESSAGES, t
from bot.core.context import Context
from bot.core.dates import normalize, parse_dates
from bot.core.messages import Outbound
from bot.core.permissions import Action, Actor, Role, can, may_view_roster, role_label
from bot.core.router import Router
from handlers import engagements, queue, web
from handlers import events as structure
from reminders.calendar import format_jp
from reminders.clock import JST

GREETING_WORDS = ("こんにちは", "こんばんは", "おはよう", "はじめまして", "hello", "hi")
HELP_WORDS = ("ヘルプ", "help", "使い方", "つかいかた", "何ができる", "なにができる")


# Each line of the help: its catalogue key, the commands it names and the permission they need
# (bot/core/permissions.py). A role is told exactly the commands it may run; a test holds this
# table against the permission table and the router.
HELP_LINES: tuple[tuple[str, tuple[str, ...], Action], ...] = (
    ("help_cmd_consult", ("/consult",), Action.OPEN_CASE),
    ("help_cmd_status_program", ("/status",), Action.VIEW_PROGRAM_STATUS),
    ("help_cmd_status", ("/status",), Action.VIEW_OWN_STATUS),
    ("help_cmd_withdraw", ("/dx withdraw",), Action.WITHDRAW_CASE),
    ("help_cmd_report", ("/report",), Action.WRITE_REPORT),
    ("help_cmd_survey", ("/dx survey",), Action.ANSWER_SURVEY),
    ("help_cmd_match", ("/dx match", "/dx pick"), Action.MATCH),
    ("help_cmd_schedule", ("/dx schedule",), Action.SCHEDULE),
    ("help_cmd_cancel_move", ("/dx cancel", "/dx move"), Action.SCHEDULE),
    ("help_cmd_hold", ("/dx hold", "/dx resume"), Action.CHANGE_STATUS),
    ("help_cmd_close", ("/dx close",), Action.CHANGE_STATUS),
    ("help_cmd_track", ("/dx track",), Action.CHANGE_STATUS),
    ("help_cmd_review", ("/dx review",), Action.CHANGE_STATUS),
    ("help_cmd_stage", ("/dx stage",), Action.CHANGE_STATUS),
    ("help_cmd_approve", ("/dx approve", "/dx reject"), Action.APPROVE_MATCH),
    ("help_cmd_deck", ("/deck",), Action.DECK),
    ("help_cmd_export", ("/dx export",), Action.EXPORT),
    ("help_cmd_casebook", ("/dx casebook",), Action.EXPORT),
    ("help_cmd_due", ("/dx due",), Action.ASK_CALENDAR),
    ("help_cmd_users", (), Action.MANAGE_USERS),
)


def command_lines(role: Role) -> list[tuple[str, tuple[str, ...]]]:
    """(catalogue key, commands) of the help lines a role may use, in order."""
    allowed = [(key, cmds) for key, cmds, action in HELP_LINES if may_role(role, action)]
    if any(key == "help_cmd_status_program" for key, _ in allowed):
        allowed = [(k, c) for k, c in allowed if k != "help_cmd_status"]
    return allowed


def may_role(role: Role, action: Action) -> bool:
    return can(Actor(user_id=0, platform="", platform_id="", role=role), action)


def _line(role: Role, key: str) -> str:
    # Some lines read differently for one role (「貴団体の…」 for officers).
    for specific in (f"{key}_{role.value}", key):
        if specific in MESSAGES:
            return t(specific)
    return t(key)


def help_text(ctx: Context) -> str:
    role = ctx.actor.role
    lines = [t("help_header", role=role_label(role))]
    lines += [_line(role, key) for key, _ in command_lines(role)]
    # What the program profile adds: the roster (Miyazaki ②, Saitama §6(3)) and consultations
    # taken by the prefecture on a municipality's behalf (Kumamoto §2.3(1)).
    if may_view_roster(ctx.actor, officers_allowed=ctx.profile.roster_visible_to_officers):
        lines.append(t("help_roster"))
    if ctx.profile.intake_via_prefecture and role is Role.PREFECTURE:
        lines.append(t("help_behalf"))
    lines += engagements.help_lines(ctx)  # where tracks run engagements (/dx engage, /dx plan)
    lines += structure.help_lines(ctx)  # events and deliverables (/dx event, /dx done)
    lines += queue.help_lines(ctx)  # what waits for whom (/dx queue)
    lines += web.help_lines(ctx)  # the web view (/dx web)
    return "\n".join([*lines, t("help_footer")])


async def show_help(ctx: Context, _args: str) -> list[Outbound]:
    return [Outbound(text=help_text(ctx))]


async def greet(ctx: Context, _text: str) -> list[Outbound]:
    name = ctx.actor.name or ctx.actor.platform_id
    return [Outbound(text=t("greeting", name=name, program=ctx.profile.name))]


async def not_understood(ctx: Context, _text: str) -> list[Outbound]:
    return [Outbound(text=t("not_understood"))]


def _is_help(_ctx: Context, text: str) -> bool:
    low = text.lower()
    return any(w in low for w in HELP_WORDS) and len(text) <= 20


def _is_greeting(_ctx: Context, text: str) -> bool:
    low = text.lower().rstrip("!！。.")
    return any(low.startswith(w) for w in GREETING_WORDS) and len(text) <= 20


# --- questions answered, never taken as a consultation ---------------------------------------

_ASKING = re.compile(r"[?？]|ですか|ますか|でしょうか|いつ|何日|なんにち|教えて|知りたい")
_OPEN_DAY = re.compile(r"開庁|閉庁|休み|休日|祝日|営業|開いて|やって")
_DEADLINE = re.compile(r"期限|締切|締め切り|〆切|いつまで")
_ABILITIES = re.compile(
    r"何ができ|なにができ|できること|使い方|つかいかた|どう使|どうやって使|機能|コマンド"
)


def question_kind(text: str) -> str | None:
    """What a short question is about: 'open_day' (is a date a 開庁日), 'deadline' (report due
    dates), 'abilities' (what the bot does), or None (not such a question)."""
    norm = normalize(text)
    if len(norm) > 80 or not _ASKING.search(norm):
        return None
    if _ABILITIES.search(norm):
        return "abilities"
    if _DEADLINE.search(norm):
        return "deadline"
    if _OPEN_DAY.search(norm):
        return "open_day"
    return None


def _is_question(_ctx: Context, text: str) -> bool:
    return question_kind(text) is not None


async def answer_question(ctx: Context, text: str) -> list[Outbound]:
    """A question about a date, a deadline or what the bot can do, answered in one reply."""
    kind = question_kind(text)
    if kind == "abilities":
        return await show_help(ctx, "")
    today = ctx.now().astimezone(JST).date()
    mentions = parse_dates(text, today)
    day = mentions[0].day if mentions else None
    if kind == "open_day":
        if day is None:
            day = today
        reason = ctx.calendar.closed_reason(day)
        if reason is None:
            return [Outbound(text=t("question_open_day", day=format_jp(day)))]
        nxt = ctx.calendar.next_open_day(day)
        return [
            Outbound(
                text=t(
                    "question_closed_day",
                    day=format_jp(day),
                    reason=reason,
                    next=format_jp(nxt),
                )
            )
        ]
    n = ctx.profile.default_track.report_open_days
    if day is not None:
        due_day = ctx.calendar.add_open_days(day, n)
        reason = ctx.calendar.closed_reason(day)
        note = t("due_note_closed", day=format_jp(day), reason=reason) if reason else ""
        return [
            Outbound(
                text=t("due_answer", day=format_jp(day), n=n, due=format_jp(due_day), note=note)
            )
        ]
    return [Outbound(text=t("question_deadline_rule", n=n))]


def register(router: Router) -> None:
    router.dx_command("help", show_help)
    router.intent(_is_help, show_help)
    # Before intake's intent: 「12月28日は開庁日ですか？」 is a question, not a consultation.
    router.intent(_is_question, answer_question)
    router.intent(_is_greeting, greet)
