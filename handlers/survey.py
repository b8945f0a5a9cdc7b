"""The post-session survey (アンケート): satisfaction 1–5, resolved / partly / not yet, comments.

Stored once per session; the case closes (完了) when the survey is in and no session of the case
is still to be held or reported.
"""

from __future__ import annotations

from typing import Any

from bot.core.catalog import t
from bot.core.choices import ask_again
from bot.core.context import Context
from bot.core.conversation import Conversation
from bot.core.dates import normalize
from bot.core.errors import UserError
from bot.core.messages import Choice, Outbound
from bot.core.permissions import Action, require
from bot.core.router import Router
from handlers.followup import has_open_sessions
from handlers.lifecycle import change_status
from handlers.report_drafts import jst_day
from reminders.calendar import format_jp
from store import cases as case_store
from store import sessions as session_store
from store.models import Case, SupportSession

FLOW = "survey"
RESOLVED = ("resolved", "partly", "not_yet")  # labels: survey_resolved_*; exports: sv_resolved_*


class SurveyFlow:
    name = FLOW
    label = "アンケート"

    async def start(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        require(ctx.actor, Action.ANSWER_SURVEY)
        session, case = await _survey_target(ctx, text.strip())
        conv.data.update({"sid": session.id, "a": {}})
        conv.goto("satisfaction")
        return [
            Outbound(
                text=t(
                    "survey_intro", case_no=case.case_no, day=format_jp(jst_day(session.starts_at))
                )
            ),
            _ask_satisfaction(),
        ]

    async def on_input(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        answers: dict[str, Any] = conv.data["a"]
        value = normalize(text).strip()
        if conv.step == "satisfaction":
            if value not in ("1", "2", "3", "4", "5"):
                return ask_again(_ask_satisfaction())
            answers["satisfaction"] = int(value)
            conv.goto("resolved")
            return [_ask_resolved()]
        if conv.step == "resolved":
            # The engine has turned a number, label or alias into its code (choices.match).
            if value not in RESOLVED:
                return ask_again(_ask_resolved())
            answers["resolved"] = value
            conv.goto("comment")
            return [Outbound(text=t("survey_ask_comment"))]
        if conv.step == "comment":
            answers["comment"] = (
                "" if value in ("なし", "特になし", "ない") else text.strip()[:2000]
            )
            return await _store(ctx, conv)
        return [_ask_satisfaction()]


def _ask_satisfaction() -> Outbound:
    return Outbound(
        text=t("survey_ask_satisfaction"),
        # Ascending, so that typing "5" (a numbered reply) means 5 points.
        choices=tuple(Choice(label=t(f"survey_point_{n}"), value=str(n)) for n in range(1, 6)),
    )


def _ask_resolved() -> Outbound:
    return Outbound(
        text=t("survey_ask_resolved"),
        # The word the exports and decks write (「未解決」) is understood as an answer too.
        choices=tuple(
            Choice(
                label=t(f"survey_resolved_{code}"),
                value=code,
                aliases=(t(f"sv_resolved_{code}"),),
            )
            for code in RESOLVED
        ),
    )


async def _survey_target(ctx: Context, ref: str) -> tuple[SupportSession, Case]:
    """A reported session of the officer's municipality that has no answered survey."""
    ref = case_store.case_key(ref)
    muni, program = ctx.actor.municipality_code, ctx.profile.id
    found = await session_store.survey_session(ctx.s, program, muni, ref, answered=False)
    if found is not None:
        return found
    if ref and await session_store.survey_session(ctx.s, program, muni, ref, answered=True):
        # The request's button pressed a second time: say so, not "nothing to answer".
        raise UserError("survey_already")
    raise UserError("survey_nothing")


async def _store(ctx: Context, conv: Conversation) -> list[Outbound]:
    found = await session_store.with_case(ctx.s, conv.data["sid"])
    if found is None:
        raise UserError("survey_nothing")
    session, case = found.session, found.case
    existing = await session_store.survey_of(ctx.s, session.id)
    if existing is not None and existing.answered_at is not None:
        conv.finish()
        return [Outbound(text=t("survey_already"))]
    a = conv.data["a"]
    if existing is None:
        await session_store.add_survey(
            ctx.s,
            session.id,
            respondent_user_id=ctx.actor.user_id,
            satisfaction=a["satisfaction"],
            resolved=a["resolved"],
            comment=a.get("comment", ""),
            requested_at=None,
            answered_at=ctx.now(),
        )
    else:
        existing.respondent_user_id = ctx.actor.user_id
        existing.satisfaction = a["satisfaction"]
        existing.resolved = a["resolved"]
        existing.comment = a.get("comment", "")
        existing.answered_at = ctx.now()
    await ctx.notifier.to_staff(
        Outbound(
            text=t(
                "survey_received_staff",
                case_no=case.case_no,
                satisfaction=a["satisfaction"],
                resolved=t(f"survey_resolved_{a['resolved']}"),
            )
        ),
        case_id=case.id,
        dedupe_key=f"survey:{session.id}:answered",
    )
    conv.finish()
    if case.status == "reported" and not await has_open_sessions(ctx.s, case):
        await change_status(ctx, case, "closed", reason=t("reason_survey_in"))
        # The officer closed it by answering: tell them here rather than in a second message.
        return [Outbound(text=t("survey_thanks_closed", case_no=case.case_no))]
    return [Outbound(text=t("survey_thanks"))]


def register(router: Router) -> None:
    engine = router.engine

    async def start(ctx: Context, value: str) -> list[Outbound]:
        require(ctx.actor, Action.ANSWER_SURVEY)
        return await engine.begin(ctx, FLOW, value)

    router.action("survey_start", start)
    router.dx_command("survey", start)
