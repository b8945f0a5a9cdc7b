"""Engaged vs expected municipalities per engagement track, for `/status`, `dxbot status --json`
and the deck: how many municipalities each track has an engagement with against what the
profile expects (Kumamoto §2.1 about 8, Nagano §2 about 25, Saitama §6(4)エ 5～10 …), which of
them still has no goal (取組目標), and the municipalities it serves that are not yet served.

The figures are ``store.engagements.track_engagements``'s; this module only words them: a
short chat block (a count line per track and a few names, "ほかN団体"), the JSON models, and a
case's stage as the plan document and the deck name it (kept here, not in reports.plan_doc, so
that the deck does not import openpyxl).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bot.core.catalog import t
from store.engagements import TrackEngagements
from store.profiles import ProgramProfile

CHAT_NAMES = 3  # names of municipalities not yet served shown in the chat, then "ほかN団体"


def names_with_more(names: list[str], limit: int) -> str:
    """The first ``limit`` names and, if there are more, "ほかN団体"."""
    shown = "、".join(names[:limit])
    rest = len(names) - limit
    return shown + (t("sv_engagements_more", n=rest) if rest > 0 else "")


def stage_label(profile: ProgramProfile, stage: int | None) -> str:
    """Case.stage with the stage model's name for it (read only: stages are kept elsewhere)."""
    if stage is None:
        return t("engage_stage_none")
    model = profile.stage_model
    named = next((st for st in model.stages if st.number == stage), None) if model else None
    return t("engage_stage_named", number=stage, name=named.name) if named else str(stage)


def render_lines(items: list[TrackEngagements], limit: int = CHAT_NAMES) -> list[str]:
    """The /status block: one line per track, and the first few not yet served under it."""
    if not items:
        return []
    lines = [t("sv_engagements_header")]
    for item in items:
        missing = len(item.without_goal)
        lines.append(
            t(
                "sv_engagements_line",
                track=item.track_name,
                engaged=len(item.engaged),
                expected=item.expected,
                goals=t("sv_engagements_goals", n=missing) if missing else "",
            )
        )
        if item.not_served:
            names = [name for _, name in item.not_served]
            lines.append(t("sv_engagements_not_served", names=names_with_more(names, limit)))
    return lines


# --- JSON -----------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class EngagedJson(_Model):
    code: str
    name: str
    case_id: str  # the readable case number the engagement is recorded on
    theme: str
    goal_set: bool  # a 取組目標 is recorded
    planned_sessions: int | None
    stage: int | None


class MunicipalityRefJson(_Model):
    code: str
    name: str


class EngagementTrackJson(_Model):
    track_id: str
    track_name: str
    expected: int
    engaged: int
    without_goal: int
    municipalities: list[EngagedJson]
    not_served: list[MunicipalityRefJson]


def to_json(items: list[TrackEngagements]) -> list[EngagementTrackJson]:
    return [
        EngagementTrackJson(
            track_id=item.track_id,
            track_name=item.track_name,
            expected=item.expected,
            engaged=len(item.engaged),
            without_goal=len(item.without_goal),
            municipalities=[
                EngagedJson(
                    code=e.municipality_code,
                    name=e.municipality_name,
                    case_id=e.case_no,
                    theme=e.theme,
                    goal_set=bool(e.goal),
                    planned_sessions=e.planned_sessions,
                    stage=e.stage,
                )
                for e in item.engaged
            ],
            not_served=[MunicipalityRefJson(code=c, name=n) for c, n in item.not_served],
        )
        for item in items
    ]
