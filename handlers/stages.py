"""Stages of an engagement, as staff handle them: `/dx stage CASE N [はい|いいえ]` corrects the
stage the expert's follow-up recorded (and the stage's KPI), and the goal reminder tells the
staff channel of engagements with no 取組目標 once their N-th session is held (the reminder
pass's port calls :func:`goal_ping`; the planning is in reminders/).
"""

from __future__ import annotations

import hashlib
import unicodedata

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.messages import Outbound
from bot.core.permissions import Action, require
from bot.core.router import Router
from handlers.lifecycle import load_case_for
from reminders.calendar import format_jp
from reminders.clock import JST
from store import cases as case_store
from store import stages as stage_store
from store.profiles import Stage, StageModel
from store.reference import names_by_code
from store.stages import GoalGap

YES = ("はい", "達成", "yes", "y", "true")
NO = ("いいえ", "未達成", "no", "n", "false")


def _stage_list(model: StageModel) -> str:
    return "\n".join(f"・{t('stage_label', number=st.number, name=st.name)}" for st in model.stages)


def _find_stage(model: StageModel, text: str) -> Stage:
    digits = unicodedata.normalize("NFKC", text).strip().removeprefix("ステップ").strip()
    for st in model.stages:
        if digits.isdigit() and int(digits) == st.number:
            return st
    raise UserError("stage_unknown", text=text[:20], model=model.name, stages=_stage_list(model))


async def set_stage(ctx: Context, args: str) -> list[Outbound]:
    """`/dx stage CASE N [はい|いいえ]`: staff correct a case's stage and its KPI."""
    require(ctx.actor, Action.CHANGE_STATUS)
    model = ctx.profile.stage_model
    if model is None:
        raise UserError("stage_no_model")
    parts = args.split()
    if len(parts) not in (2, 3):
        raise UserError(
            "stage_usage", example=f"{ctx.profile.case_prefix}-{ctx.profile.fiscal_year}-0001"
        )
    case = await load_case_for(ctx, case_store.case_key(parts[0]))
    if not await stage_store.carries_stages(
        ctx.s, case, stage_store.engagement_tracks(ctx.profile)
    ):
        raise UserError("stage_not_engaged", case_no=case.case_no)
    stage = _find_stage(model, parts[1])
    kpi_met: bool | None = None
    if len(parts) == 3:
        word = unicodedata.normalize("NFKC", parts[2]).strip().casefold()
        if word in YES:
            kpi_met = True
        elif word in NO:
            kpi_met = False
        else:
            raise UserError("stage_kpi_answer_invalid", text=parts[2][:20])
    before = (await stage_store.marks_of(ctx.s, case.id)).get(stage.number)
    if stage.kpi is None:
        kpi_met = None
    await stage_store.record_stage(
        ctx.s,
        case,
        stage.number,
        kpi_met,
        session_id=None,
        recorded_by=ctx.actor.label,
        now=ctx.now(),
    )
    names = await names_by_code(ctx.s, [case.municipality_code])
    return [
        Outbound(
            text=t(
                "stage_set",
                case_no=case.case_no,
                municipality=names.get(case.municipality_code, case.municipality_code),
                stage=t("stage_label", number=stage.number, name=stage.name),
                kpi=_kpi_note(stage, kpi_met, before),
            )
        )
    ]


def _kpi_note(stage: Stage, kpi_met: bool | None, before: bool | None) -> str:
    if stage.kpi is None:
        return t("stage_set_kpi_no_kpi")
    if kpi_met is not None:
        return t("stage_set_kpi", state=_met_word(kpi_met))
    if before is not None:
        return t("stage_set_kpi_kept", state=_met_word(before))
    return t("stage_set_kpi_unasked")


def _met_word(met: bool) -> str:
    return t("stage_kpi_met") if met else t("stage_kpi_not_met")


async def goal_ping(ctx: Context, gaps: list[GoalGap]) -> None:
    """One message to the staff channel listing the engagements whose goal is still missing
    after the profile's N-th session (each case once: the pass claimed ``goal:<case id>``)."""
    model = ctx.profile.stage_model
    if not gaps or model is None or model.goal_set_by_session is None:
        return
    n = model.goal_set_by_session
    lines = "\n".join(
        t(
            "goal_reminder_line",
            case_no=g.case_no,
            municipality=g.municipality_name,
            held=g.held,
            n=n,
            day=format_jp(g.nth_ended_at.astimezone(JST).date()),
        )
        for g in gaps
    )
    digest = hashlib.sha256(",".join(str(g.case_id) for g in gaps).encode()).hexdigest()[:32]
    await ctx.notifier.to_staff(
        Outbound(text=t("goal_reminder", n=n, lines=lines)), dedupe_key=f"goal:{digest}"
    )


def register(router: Router) -> None:
    router.dx_command("stage", set_stage)
