"""The municipality × stage matrix of a program with a stage model, for `/status`, `--json`
and the decks. Pure over ``store.stages.matrix`` rows and the profile's stage model.

A stage is *reached* when it is at or below the case's current stage, or has a mark. Its cell:
○ reached and its KPI met (or the stage has no KPI), △ reached with the KPI not met yet or not
asked, — not reached.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from bot.core.catalog import t
from store.profiles import ProgramProfile, Stage, StageModel
from store.stages import MatrixRow

MET, OPEN, NOT_REACHED = "○", "△", "—"


@dataclass(frozen=True)
class Cell:
    number: int
    reached: bool
    kpi_met: bool | None  # None: not asked (or not reached)

    def mark(self, stage: Stage) -> str:
        if not self.reached:
            return NOT_REACHED
        return MET if self.kpi_met or stage.kpi is None else OPEN


@dataclass(frozen=True)
class Row:
    case_no: str
    municipality_code: str
    municipality_name: str
    track_id: str
    stage: int | None
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class StageCount:
    stage: Stage
    reached: int
    kpi_met: int


@dataclass(frozen=True)
class StageMatrix:
    model: StageModel
    rows: tuple[Row, ...]

    @property
    def counts(self) -> list[StageCount]:
        out = []
        for i, stage in enumerate(self.model.stages):
            cells = [r.cells[i] for r in self.rows]
            out.append(
                StageCount(
                    stage,
                    sum(c.reached for c in cells),
                    sum(c.reached and c.kpi_met is True for c in cells),
                )
            )
        return out


def build(profile: ProgramProfile, rows: list[MatrixRow]) -> StageMatrix | None:
    """The matrix, or None for a program without a stage model."""
    model = profile.stage_model
    if model is None:
        return None
    out = []
    for r in rows:
        cells = tuple(
            Cell(
                st.number,
                reached := (r.stage is not None and st.number <= r.stage) or st.number in r.marks,
                r.marks.get(st.number) if reached else None,
            )
            for st in model.stages
        )
        out.append(
            Row(r.case_no, r.municipality_code, r.municipality_name, r.track_id, r.stage, cells)
        )
    return StageMatrix(model, tuple(out))


def stage_label(stage: Stage) -> str:
    return t("stage_label", number=stage.number, name=stage.name)


def render_lines(m: StageMatrix) -> list[str]:
    """The `/status` section: one line per stage (reached and KPI met out of the engaged)."""
    total = len(m.rows)
    lines = [t("sv_section_stages", model=m.model.name, total=total)]
    for c in m.counts:
        key = "sv_stage_line" if c.stage.kpi is not None else "sv_stage_line_no_kpi"
        lines.append(
            t(key, stage=stage_label(c.stage), total=total, reached=c.reached, met=c.kpi_met)
        )
    return lines


# --- JSON ---------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StageJson(_Model):
    number: int
    name: str
    kpi: str | None
    reached: int
    kpi_met: int


class StageCellJson(_Model):
    number: int
    reached: bool
    kpi_met: bool | None


class StageRowJson(_Model):
    case_id: str
    municipality_code: str
    municipality_name: str
    track: str
    current_stage: int | None
    stages: list[StageCellJson]


class StagesJson(_Model):
    name: str
    goal_set_by_session: int | None
    stages: list[StageJson]
    matrix: list[StageRowJson]


def to_json(m: StageMatrix) -> StagesJson:
    return StagesJson(
        name=m.model.name,
        goal_set_by_session=m.model.goal_set_by_session,
        stages=[
            StageJson(
                number=c.stage.number,
                name=c.stage.name,
                kpi=c.stage.kpi,
                reached=c.reached,
                kpi_met=c.kpi_met,
            )
            for c in m.counts
        ],
        matrix=[
            StageRowJson(
                case_id=r.case_no,
                municipality_code=r.municipality_code,
                municipality_name=r.municipality_name,
                track=r.track_id,
                current_stage=r.stage,
                stages=[
                    StageCellJson(number=c.number, reached=c.reached, kpi_met=c.kpi_met)
                    for c in r.cells
                ],
            )
            for r in m.rows
        ],
    )
