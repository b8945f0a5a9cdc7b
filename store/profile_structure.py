"""The parts of a profile that describe a program's own structure beyond its tracks: the events
it holds or counts, and the deliverables it owes with the rule that makes each one due.

Kept apart from store/profiles.py (the loader and the track rules) so each file stays one
concern; ProgramProfile imports these models and checks their cross-references
(``check_structure``). Every field is documented in docs/profile.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

ClosedDayRule = Literal["as_is", "next_open_day", "previous_open_day"]
Receiver = Literal["staff", "prefecture"]
_ID = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventKind(_Strict):
    """A kind of meeting or event the program holds or counts (Yamagata §4 定例会, Nagano
    進捗状況確認会議, Miyazaki 研修, Saitama §6(8) 交流会, Kumamoto §2.2 成果報告会)."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1, max_length=40)
    # How many the seed expects over the term (〜回程度 / 毎月); none: counted, no target.
    expected: int | None = Field(default=None, ge=0)
    # A meeting: recording one makes its 議事録 due (a deliverable whose rule names this kind).
    meeting: bool = False
    seed_ref: str = ""


class FixedDate(_Strict):
    """Due on a fixed date (the completion report by 2027-03-19)."""

    kind: Literal["fixed_date"]
    date: dt.date


class AfterEvent(_Strict):
    """Due ``open_days`` 開庁日 after each event of kind ``event`` (議事録 within 3開庁日 of a
    meeting, Miyazaki §7(4)); one item per event."""

    kind: Literal["after_event"]
    event: str = Field(pattern=_ID)
    open_days: int = Field(ge=1, le=60)


class BeforeEvent(_Strict):
    """Due ``open_days`` 開庁日 before each event of kind ``event`` (資料 the day before)."""

    kind: Literal["before_event"]
    event: str = Field(pattern=_ID)
    open_days: int = Field(ge=1, le=60)


class AfterLastSession(_Strict):
    """Due ``months`` calendar months after the last session of ``track`` (調査報告書 one month
    after the last hearing, Saitama §6(7)オ)."""

    kind: Literal["after_last_session"]
    track: str = Field(pattern=_ID)
    months: int = Field(ge=1, le=12)


class AfterTermStart(_Strict):
    """Due ``open_days`` 開庁日 after the term starts (体制図, 計画書 soon after the contract,
    Yamagata §6(1)(2), Saitama 表2-1..3)."""

    kind: Literal["after_term_start"]
    open_days: int = Field(ge=1, le=60)


class Monthly(_Strict):
    """Due on ``day`` of the month after each month of the term (月次報告 翌月10日); what a
    closed day does is ``closed_day_rule``."""

    kind: Literal["monthly"]
    day: int = Field(ge=1, le=28)
    closed_day_rule: ClosedDayRule = "as_is"


DueRule = Annotated[
    FixedDate | AfterEvent | BeforeEvent | AfterLastSession | AfterTermStart | Monthly,
    Field(discriminator="kind"),
]


class Deliverable(_Strict):
    """Something the contract owes by a date its rule gives (docs/profile.md "deliverables")."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1, max_length=60)
    due: DueRule
    submitted_to: Receiver = "prefecture"
    seed_ref: str = ""


def check_structure(
    events: Sequence[EventKind], deliverables: Sequence[Deliverable], track_ids: Sequence[str]
) -> None:
    """Cross-references a field validator cannot see: ids unique, a rule's event kind and track
    declared. Raises ValueError naming the entry, for the loader's message."""
    event_ids = [e.id for e in events]
    if len(event_ids) != len(set(event_ids)):
        raise ValueError(f"event ids must be unique, got {event_ids}")
    ids = [d.id for d in deliverables]
    if len(ids) != len(set(ids)):
        raise ValueError(f"deliverable ids must be unique, got {ids}")
    for d in deliverables:
        rule = d.due
        if isinstance(rule, AfterEvent | BeforeEvent) and rule.event not in event_ids:
            raise ValueError(f"deliverable {d.id}: event kind {rule.event!r} is not in events")
        if isinstance(rule, AfterLastSession) and rule.track not in track_ids:
            raise ValueError(f"deliverable {d.id}: track {rule.track!r} is not in tracks")
