"""`/deck [summary|monthly|completion] [FROM TO]`: a PowerPoint deck posted back into the chat.

The request is acknowledged at once with a progress message; the deck is built off the request
path and posted as a file to the person who asked, in the same thread. Scope follows the role:
staff, prefecture and admin get the program; an officer only their own municipality.

Periods: no dates → the kind's default (completion: the term; monthly: last month; summary:
the term so far); one date or month (2026-10, 2026年10月) → for monthly that month, otherwise
from that date to today; two dates → FROM to TO, both included.
"""

from __future__ import annotations

import datetime as dt
import re

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.dates import normalize, parse_one_date
from bot.core.errors import UserError
from bot.core.messages import FileOut, Outbound
from bot.core.permissions import Action, case_scope, require
from bot.core.router import Router
from handlers.export import Builder, Built, in_thread, post_file_later
from reminders.calendar import format_jp
from reminders.clock import JST
from reports import deck
from reports.status import Period
from store import reporting
from store.db import Session
from store.profiles import ProgramProfile

KIND_WORDS: dict[str, deck.DeckKind] = {
    "summary": "summary",
    "概要": "summary",
    "monthly": "monthly",
    "月例": "monthly",
    "月次": "monthly",
    "completion": "completion",
    "完了": "completion",
    "完了報告": "completion",
}
MONTH = re.compile(r"^(\d{4})[-/年](\d{1,2})月?$")
MAX_DAYS = 800  # a deck covers a fiscal year, not a decade: refuse obvious typos


def _month(text: str) -> Period | None:
    m = MONTH.match(normalize(text))
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return deck.month_period(int(m.group(1)), int(m.group(2)))


MONTH_DAY_ONLY = re.compile(r"^\d{1,2}(?:月\d{1,2}日?|/\d{1,2})$")


def _date(text: str, today: dt.date) -> dt.date:
    """A report looks back: 「10月1日」 without a year is the last 1 October, not the next."""
    day = parse_one_date(text, today)
    if day is None:
        raise UserError("date_invalid", text=text[:30])
    if day > today and MONTH_DAY_ONLY.match(normalize(text)):
        try:
            day = day.replace(year=day.year - 1)
        except ValueError:  # 2月29日 of a leap year: the previous year has none
            day = day.replace(year=day.year - 1, day=28)
    return day


def parse_request(
    args: str, profile: ProgramProfile, today: dt.date
) -> tuple[deck.DeckKind, Period]:
    words = args.split()
    kind: deck.DeckKind = "summary"
    if words and words[0].lower() in KIND_WORDS:
        kind = KIND_WORDS[words.pop(0).lower()]
    if len(words) > 2:
        raise UserError("deck_usage")
    if not words:
        return kind, deck.default_period(kind, profile, today)
    month = _month(words[0]) if len(words) == 1 else None
    if month is not None:
        return kind, month
    start = _date(words[0], today)
    if len(words) == 1:
        period = (
            deck.month_period(start.year, start.month)
            if kind == "monthly"
            else Period(start, today)
        )
    else:
        period = Period(start, _date(words[1], today))
    if period.end < period.start or (period.end - period.start).days > MAX_DAYS:
        raise UserError("deck_bad_period", start=format_jp(period.start), end=format_jp(period.end))
    return kind, period


async def deck_command(ctx: Context, args: str) -> list[Outbound]:
    require(ctx.actor, Action.DECK)
    today = ctx.now().astimezone(JST).date()
    kind, period = parse_request(args, ctx.profile, today)
    scope = case_scope(ctx.actor)
    label = ""
    if scope.municipality_code is not None:
        label = await reporting.municipality_name(ctx.s, scope.municipality_code) or ""
    profile, cal, now, llm = ctx.profile, ctx.calendar, ctx.now(), ctx.llm

    async def read(s: Session) -> Builder:
        data = await deck.load_deck_data(s, profile, cal, now, kind, period, scope, label)
        names = await reporting.people_names(s)

        async def build() -> Built:
            data.narrative = await deck.narrate(llm, data, names)  # None unless an LLM is on
            f = await in_thread(deck.deck_file, data)
            out = FileOut(
                name=f.name, content=f.content, content_type=f.content_type, title=f.title
            )
            return out, t("deck_ready", title=f.title, slides=f.slides)

        return build

    post_file_later(ctx, read, f"deck-{kind}")
    return [
        Outbound(
            text=t(
                "deck_preparing",
                kind=t(f"deck_kind_{kind}"),
                start=format_jp(period.start),
                end=format_jp(period.end),
                scope=t("deck_scope", name=label) if label else "",
            )
        )
    ]


def register(router: Router) -> None:
    router.command("/deck", deck_command)
