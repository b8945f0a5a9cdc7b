"""The follow-up's stage questions: after the report's own questions, the expert of an
engagement case says which stage of the profile's stage model the municipality has reached and,
when that stage has a KPI, whether it is met — at most two short numbered questions.

The first choice is always the stage recorded last (or the model's first stage before any), so
keeping it is one keystroke (「1」). The answers show in the report's summary, can be corrected
from its 修正 menu, and are stored on submission (``Case.stage`` and the StageMark of that stage,
store/stages.py). An amendment of a submitted report does not ask again: staff correct a stage
with `/dx stage` (handlers/stages.py).

Which cases are asked: see store/stages.py (a track that runs engagements, or an Engagement row).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bot.core.catalog import t
from bot.core.choices import ask_again
from bot.core.context import Context
from bot.core.conversation import Conversation
from bot.core.messages import Choice, Outbound
from store import stages as stage_store
from store.models import Case

KEY = "stage"
STAGE, KPI = "stage", "stage_kpi"
STEPS = (STAGE, KPI)
_TYPED_STAGE = re.compile(r"(?:ステップ|step)\s*(\d{1,3})", re.IGNORECASE)


async def prepare(ctx: Context, conv: Conversation, case: Case | None) -> None:
    """Remember in the conversation whether (and what) to ask for this case."""
    model = ctx.profile.stage_model
    if model is None or case is None:
        return
    if not await stage_store.carries_stages(
        ctx.s, case, stage_store.engagement_tracks(ctx.profile)
    ):
        return
    numbers = [st.number for st in model.stages]
    last = await stage_store.last_stage(ctx.s, case.id)
    conv.data[KEY] = {
        "model": model.name,
        "stages": [[st.number, st.name, st.kpi] for st in model.stages],
        "default": last if last in numbers else numbers[0],
        "had": last in numbers,
        "chosen": None,
        "kpi": None,
    }


def _state(conv: Conversation) -> dict[str, Any] | None:
    state = conv.data.get(KEY)
    return state if isinstance(state, dict) else None


def _label(state: dict[str, Any], number: int) -> str:
    name = next(n for num, n, _ in state["stages"] if num == number)
    return t("stage_label", number=number, name=name)


def _kpi(state: dict[str, Any], number: int) -> str | None:
    return next((k for num, _, k in state["stages"] if num == number), None)


def question(conv: Conversation) -> Outbound | None:
    """The next stage question not answered yet, or None when there is none to ask."""
    state = _state(conv)
    if state is None:
        return None
    if state["chosen"] is None:
        return ask_stage(conv)
    if state["kpi"] is None and _kpi(state, state["chosen"]) is not None:
        return _ask_kpi(conv)
    return None


def ask_stage(conv: Conversation) -> Outbound:
    state = _state(conv)
    assert state is not None
    conv.goto(STAGE)
    default = state["default"]
    first = (
        [
            Choice(
                label=t("stage_choice_same", stage=_label(state, default)), value=f"stage:{default}"
            )
        ]
        if state["had"]
        else []
    )
    return Outbound(
        text=t(
            "report_ask_stage" if state["had"] else "report_ask_stage_first",
            model=state["model"],
            current=_label(state, default),
        ),
        choices=(
            *first,
            *(Choice(label=_label(state, n), value=f"stage:{n}") for n, _, _ in state["stages"]),
        ),
    )


def _ask_kpi(conv: Conversation) -> Outbound:
    state = _state(conv)
    assert state is not None
    conv.goto(KPI)
    chosen = state["chosen"]
    return Outbound(
        text=t("report_ask_stage_kpi", stage=_label(state, chosen), kpi=_kpi(state, chosen)),
        choices=(
            Choice(label=t("stage_choice_yes"), value="kpi:yes"),
            Choice(label=t("stage_choice_no"), value="kpi:no"),
        ),
    )


def on_answer(conv: Conversation, text: str) -> list[Outbound]:
    """Take an answer to a stage question: the question again (or the KPI question) when more
    is to be asked here, nothing when the follow-up goes on."""
    state = _state(conv)
    assert state is not None
    answer = unicodedata.normalize("NFKC", text).strip()
    if conv.step == STAGE:
        number = _stage_number(state, answer)
        if number is None:
            return ask_again(ask_stage(conv))
        state["chosen"], state["kpi"] = number, None
        if _kpi(state, number) is not None:
            return [_ask_kpi(conv)]
        return []
    if answer in ("kpi:yes", "はい"):
        state["kpi"] = True
    elif answer in ("kpi:no", "いいえ"):
        state["kpi"] = False
    else:
        return ask_again(_ask_kpi(conv))
    return []


def _stage_number(state: dict[str, Any], answer: str) -> int | None:
    numbers = {num for num, _, _ in state["stages"]}
    found = re.fullmatch(r"stage:(\d+)", answer) or _TYPED_STAGE.fullmatch(answer)
    if found is None:
        return None
    number = int(found.group(1))
    return number if number in numbers else None


def summary_fields(conv: Conversation) -> tuple[tuple[str, str], ...]:
    """The stage lines of the report's summary (none when not asked)."""
    state = _state(conv)
    if state is None or state["chosen"] is None:
        return ()
    chosen = state["chosen"]
    fields = [(t("report_stage_label"), _label(state, chosen))]
    if _kpi(state, chosen) is not None and state["kpi"] is not None:
        met = t("stage_kpi_met") if state["kpi"] else t("stage_kpi_not_met")
        fields.append((t("report_stage_kpi_label"), met))
    return tuple(fields)


def edit_choice(conv: Conversation) -> tuple[Choice, ...]:
    """The 修正 menu's entry for the stage, when it was asked."""
    state = _state(conv)
    if state is None or state["chosen"] is None:
        return ()
    return (Choice(label=t("report_stage_label"), value=STAGE),)


async def record(ctx: Context, conv: Conversation, case: Case, session_id: int) -> None:
    """Store the answers on submission: the case's stage and the stage's mark."""
    state = _state(conv)
    if state is None or state["chosen"] is None:
        return
    await stage_store.record_stage(
        ctx.s,
        case,
        state["chosen"],
        state["kpi"] if _kpi(state, state["chosen"]) is not None else None,
        session_id=session_id,
        recorded_by=ctx.actor.label,
        now=ctx.now(),
    )
