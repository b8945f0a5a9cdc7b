"""Program profiles: the rules of each procurement specification, kept as validated data.

A profile is YAML shipped as package data (``store/profiles/<id>.yaml``) or a file in the
administrator's folder (``DXBOT_PROFILES_DIR``), so next year's program, or another
prefecture's, needs no code change. Loading validates it with pydantic; a mistake is refused with
a message naming the file, the field and the problem, because an admin editing a profile must be
told exactly where to look. Every field is documented in docs/profile.md.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from store.profile_structure import Deliverable, EventKind, check_structure

Method = Literal["online", "onsite", "email", "chat", "phone"]
TrackKind = Literal["consultation", "dispatch", "accompaniment", "bpr", "hearing"]
Approver = Literal["staff", "prefecture"]
ClosedDayRule = Literal["as_is", "next_open_day", "previous_open_day"]
ReportReceiver = Literal["staff", "prefecture"]
# Where a profile file lives: package data, or the folder named by DXBOT_PROFILES_DIR.
ProfileWhere = Literal["shipped", "folder"]


class ProfileError(Exception):
    """A profile could not be loaded; ``str()`` is a sentence fit for the CLI."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _quoted_time(value: object) -> object:
    """YAML 1.1 reads an unquoted ``17:15`` as the number 1035 (base 60), which pydantic would
    take for 00:17:15; a time of day must be written in quotes ("17:15")."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError('write a time of day in quotes, e.g. "17:15"')
    return value


class ReportRule(_Strict):
    """Where a track's session report goes and in what shape (README "Program profiles").

    The defaults are the product's behaviour before profiles could say otherwise: one report
    per session, filed with the staff (the contractor), no review step.
    """

    # One report (and one file) per participating municipality: a joint session asks the
    # shared parts once and what differs (attendees, issues, policy) per municipality.
    per_municipality: bool = False
    # Who the report is submitted to: the deadline is met when it reaches them. "prefecture"
    # posts the file to the prefecture channel (the staff channel gets a copy).
    submitted_to: ReportReceiver = "staff"
    # Staff (the contractor) approve the expert's report or send it back with a reason before
    # it goes on to ``submitted_to``; the deadline is met only on delivery after approval.
    staff_review: bool = False
    # The document's title (the seeds name it: 相談窓口実施報告書, 業務日報, …).
    title: str = Field(default="支援実施報告書", min_length=1, max_length=40)


class Track(_Strict):
    """One line of work the contract counts (相談窓口, 人材派遣, 伴走支援, BPR, ヒアリング)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: TrackKind
    name: str = Field(min_length=1)
    # The track's name where space is short (deck chart labels, legends, table columns): the
    # profile's own short word (伴走（電子契約）), never a name cut mid-word; empty: the name.
    short_label: str = Field(default="", max_length=12)
    target: int | None = Field(default=None, ge=0, description="expected count (〜程度)")
    minimum: int | None = Field(default=None, ge=0, description="contractual floor (以上)")
    per_municipality_cap: int | None = Field(default=None, ge=1)
    minimum_onsite: int | None = Field(default=None, ge=0)
    default_hours: float = Field(gt=0, le=24)
    max_hours: float | None = Field(default=None, gt=0, le=24)
    default_method: Method
    methods: tuple[Method, ...] = ("online", "onsite")
    report_open_days: int = Field(default=5, ge=1, le=30)
    # Municipalities (6-digit 全国地方公共団体コード) the track serves: ``include`` empty means
    # every municipality of the prefecture; ``exclude`` takes some out (Miyazaki's 標準化 track
    # excludes 宮崎市 and 都城市, §6(1)ア). Checked by store/rules.py for matching and scheduling.
    include_municipalities: tuple[str, ...] = ()
    exclude_municipalities: tuple[str, ...] = ()
    report: ReportRule = ReportRule()  # where the session report goes; see ReportRule
    # How many municipalities the track expects to support through an engagement (Kumamoto
    # §2.1 about 8, Nagano §5(1) about 25); none: the track runs no engagements.
    expected_municipalities: int | None = Field(default=None, ge=1)
    # The title of an engagement's plan document (`/dx plan`): the seed's own word (Kumamoto
    # §2.5(1) 支援計画書, Saitama §6(4)ア 実施プラン); empty: the word for the track's kind.
    plan_title: str = Field(default="", max_length=40)
    seed_ref: str = ""

    @property
    def label(self) -> str:
        """The short label, or the name when the profile gives none."""
        return self.short_label or self.name

    @model_validator(mode="after")
    def _coherent(self) -> Track:
        if self.max_hours is not None and self.default_hours > self.max_hours:
            raise ValueError(
                f"default_hours {self.default_hours} exceeds max_hours {self.max_hours}"
            )
        if self.target is not None and self.minimum is not None and self.minimum > self.target:
            raise ValueError(f"minimum {self.minimum} exceeds target {self.target}")
        if self.default_method not in self.methods:
            raise ValueError(f"default_method {self.default_method} is not among methods")
        for code in (*self.include_municipalities, *self.exclude_municipalities):
            if not re.fullmatch(r"\d{6}", code):
                raise ValueError(f"municipality code {code!r} must be 6 digits")
        both = set(self.include_municipalities) & set(self.exclude_municipalities)
        if both:
            raise ValueError(f"municipalities {sorted(both)} are both included and excluded")
        return self


class Stage(_Strict):
    number: int = Field(ge=0)
    name: str = Field(min_length=1)
    kpi: str | None = None


class StageModel(_Strict):
    name: str
    stages: tuple[Stage, ...] = Field(min_length=1)
    goal_set_by_session: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _numbered(self) -> StageModel:
        numbers = [s.number for s in self.stages]
        if numbers != sorted(set(numbers)):
            raise ValueError("stage numbers must be unique and ascending")
        return self


# Fields the profile's ``deliverables`` replaced: one source for when a 議事録 or the hearing
# report is due (docs/profile.md "deadlines"). A file still naming one is refused saying so.
_SUPERSEDED_DEADLINES = {
    "minutes_open_days": "declare a deliverable with due: {kind: after_event, event: <a meeting "
    "kind>, open_days: N} instead",
    "hearing_report_months_after_last": "declare a deliverable with due: {kind: "
    "after_last_session, track: <the hearing track>, months: N} instead",
}


class Deadlines(_Strict):
    """Report deadlines. Session reports use each track's ``report_open_days``; every other
    deliverable (議事録, 調査報告書, 計画書 …) is in the profile's ``deliverables``."""

    monthly_report_day: int | None = Field(default=None, ge=1, le=28)
    # The seeds say 翌月10日 with no rule for a 10th that is closed; this makes the choice data.
    monthly_report_closed_day_rule: ClosedDayRule = "as_is"
    final_month_report_due: dt.date | None = None

    @model_validator(mode="before")
    @classmethod
    def _superseded(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old, instead in _SUPERSEDED_DEADLINES.items():
                if old in data:
                    raise ValueError(f"{old} is superseded by deliverables: {instead}")
        return data


class ReminderPolicy(_Strict):
    office_start: dt.time = dt.time(9, 0)
    office_end: dt.time = dt.time(17, 0)
    before_due_open_days: int = Field(default=2, ge=0)
    escalate_prefecture_after_overdue_open_days: int = Field(default=3, ge=1)

    _times = field_validator("office_start", "office_end", mode="before")(_quoted_time)

    @model_validator(mode="after")
    def _window(self) -> ReminderPolicy:
        if self.office_start >= self.office_end:
            raise ValueError("office_start must be before office_end")
        return self


class SurveyPolicy(_Strict):
    reminder_after_open_days: int = Field(default=3, ge=1)
    grace_open_days: int = Field(default=10, ge=1)


class QueuePolicy(_Strict):
    """After how many 開庁日 each kind of wait in the desk's queue is flagged (shown 【要対応】 in
    `/status` and `/dx queue`, and told to the staff in the reminder pass's bundled message once
    per 開庁日). A wait is flagged once its age is greater than the number (docs/profile.md)."""

    match: int = Field(default=2, ge=0)  # a new consultation waiting for an expert
    approval: int = Field(default=2, ge=0)  # a proposed expert waiting for the prefecture
    schedule: int = Field(default=5, ge=0)  # an accepted case with no session booked
    # a held session with no report; unset: once past the report's due day (the track's deadline)
    report: int | None = Field(default=None, ge=0)
    review: int = Field(default=2, ge=0)  # a report waiting for the desk's review
    survey: int = Field(default=5, ge=0)  # a survey not returned by the municipality
    deliverable: int = Field(default=0, ge=0)  # a deliverable past its due day


class Retention(_Strict):
    """How long the bot keeps what it only needs for a while (reminders/retention.py, run by the
    scheduler and `dxbot remind`): a half-finished conversation, a handled chat delivery (inbox)
    and the text of a delivered message (outbox). Where a deployment holds several programs the
    shortest setting applies to these shared tables."""

    conversation_days: int = Field(default=30, ge=1)
    inbox_days: int = Field(default=7, ge=1)
    outbox_days: int = Field(default=90, ge=1)


class OnsiteMinimum(_Strict):
    """A program-level rule: at least ``minimum`` on-site sessions held across ``tracks`` taken
    together (Yamagata §3(1)⑤ 現地での支援を2回以上, covering both accompaniment themes). Shown
    as a shortfall until met (store/rules.py ``shortfalls``); it never refuses a booking."""

    kind: Literal["onsite_minimum"]
    tracks: tuple[str, ...] = Field(min_length=1)
    minimum: int = Field(ge=1)
    seed_ref: str = ""


ProgramRule = OnsiteMinimum  # the kinds of program_rules; a union once there are more


class SessionWindow(_Strict):
    """When a session may run: it starts at or after ``start`` and ends by ``end`` (JST)."""

    start: dt.time = dt.time(8, 0)
    end: dt.time = dt.time(20, 0)

    _times = field_validator("start", "end", mode="before")(_quoted_time)

    @model_validator(mode="after")
    def _ordered(self) -> SessionWindow:
        if self.start >= self.end:
            raise ValueError("session_window start must be before its end")
        return self


# What a completion-report section can show: each kind is one way the deck builder knows to draw
# a slide from the program's figures (reports/deck/sections.py maps every kind to its slide).
SectionKind = Literal[
    "overview",
    "kpis",
    "monthly_trend",
    "domains",
    "municipalities",
    "experts",
    "expert_pool",
    "highlights",
    "issues",
    "surveys",
    "joint_work",
    "structure",
    "roadmap",
    "proposals",
    "next_steps",
    "sessions_appendix",
    "engagements",
    "stages",
    "events",
    "text",
    # 業務日報 pages (Kumamoto §2.5(2)); per municipality 進捗状況・課題事項・対策・対応状況
    # (Miyazaki §6(1)イ(イ)); survey comments, masked (Saitama §6(6)キ); each stage's KPI.
    "daily_reports",
    "progress_by_municipality",
    "survey_comments",
    "stage_kpis",
]


# The kinds whose slide shows a profile's fixed sentences: all of a ``text`` slide; added under
# the decision flow of a ``structure`` slide (Yamagata §3(3)⑤ 費用負担の考え方).
SENTENCE_KINDS: tuple[SectionKind, ...] = ("text", "structure")


def _check_text(content: SectionKind, text: tuple[str, ...]) -> None:
    """A ``text`` slide needs its sentences; only the kinds that show sentences take them."""
    if content == "text" and not text:
        raise ValueError("content 'text' needs the sentences in 'text'")
    if content not in SENTENCE_KINDS and text:
        kinds = " or ".join(f"'{k}'" for k in SENTENCE_KINDS)
        raise ValueError(f"'text' is only for content {kinds}, not '{content}'")


class ReportSlide(_Strict):
    """One slide of a completion-report section: what it shows and its title."""

    content: SectionKind
    # The slide's title; empty: the section's title.
    title: str = Field(default="", max_length=80)
    # Fixed sentences, one bullet each: what a ``text`` slide says, or what a ``structure``
    # slide adds under its decision flow (SENTENCE_KINDS).
    text: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _text_only_for_text(self) -> ReportSlide:
        _check_text(self.content, self.text)
        return self


class ReportSection(_Strict):
    """One entry of the completion report's contents (Yamagata §3(3) ①–⑦): one slide of one
    ``content`` kind, or several ``slides`` under the one heading."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1, max_length=80)
    content: SectionKind | None = None
    text: tuple[str, ...] = ()
    slides: tuple[ReportSlide, ...] = ()
    seed_ref: str = ""

    @model_validator(mode="after")
    def _one_way(self) -> ReportSection:
        if (self.content is None) == (not self.slides):
            raise ValueError("give either 'content' (one slide) or 'slides', not both or neither")
        if self.slides and self.text:
            raise ValueError("with 'slides', 'text' goes on a slide, not on the section")
        if self.content is not None:
            _check_text(self.content, self.text)
        return self

    @property
    def pages(self) -> tuple[ReportSlide, ...]:
        """The section's slides, each with its title filled in."""
        if self.content is not None:
            return (ReportSlide(content=self.content, title=self.title, text=self.text),)
        return tuple(
            s if s.title else s.model_copy(update={"title": self.title}) for s in self.slides
        )


class CompletionReport(_Strict):
    """The completion report's outline (事業完了報告書): its title and its sections in order,
    listed on the contents slide. Without it a program gets the generic outline."""

    title: str = Field(default="", max_length=80)  # empty: 事業完了報告書
    sections: tuple[ReportSection, ...] = Field(min_length=1)
    seed_ref: str = ""

    @model_validator(mode="after")
    def _unique(self) -> CompletionReport:
        ids = [s.id for s in self.sections]
        if len(ids) != len(set(ids)):
            raise ValueError(f"section ids must be unique, got {ids}")
        return self


class ProgramProfile(_Strict):
    id: str = Field(pattern=r"^[a-z]+-\d{4}$")
    case_prefix: str = Field(pattern=r"^[A-Z]{3}$")
    name: str = Field(min_length=1)
    prefecture: str = Field(pattern=r"^.+[都道府県]$")
    prefecture_code: str = Field(pattern=r"^\d{2}$")
    fiscal_year: int = Field(ge=2020, le=2100)
    term_start: dt.date
    term_end: dt.date
    # 履行期限: the last day a session may be held, when the seed sets one before the contract
    # end (Saitama §3: 2027-03-19, contract to 2027-03-31). Unset: term_end is the last day.
    last_service_day: dt.date | None = None
    # Product ceiling on one session's hours for tracks that set no max_hours of their own.
    max_session_hours: float = Field(default=8, gt=0, le=24)
    # The time of day sessions may run (default 08:00-20:00; a session must end by ``end``).
    session_window: SessionWindow = SessionWindow()
    # Rules spanning tracks (a list so a profile can add more kinds later).
    program_rules: tuple[ProgramRule, ...] = ()
    chat_platform: Literal["slack", "logo"] = "slack"
    match_approver: Approver = "staff"
    tracks: tuple[Track, ...] = Field(min_length=1)
    deadlines: Deadlines = Deadlines()
    reminders: ReminderPolicy = ReminderPolicy()
    survey: SurveyPolicy = SurveyPolicy()
    retention: Retention = Retention()
    queue: QueuePolicy = QueuePolicy()  # when the desk's waits are flagged (issue 20)
    stage_model: StageModel | None = None
    extra_domains: tuple[str, ...] = ()
    # Officers may see the roster (`/dx experts`) and name a preferred expert at intake
    # (Miyazaki ② 一覧表を提示し市町村が人材を指定; Saitama §6(3) データベースを市町村に公開).
    # Only experts who consented to be listed appear to officers (Saitama §6(3)ウ).
    roster_visible_to_officers: bool = False
    # Officers also see each listed expert's contact details (e-mail); off unless a seed says so.
    roster_shows_contacts: bool = False
    # Consultations come in via the prefecture (Kumamoto §2.3(1) 県を経由して受け付ける): a
    # prefecture user opens one on behalf of a municipality's registered officer.
    intake_via_prefecture: bool = False
    closed_days: tuple[dt.date, ...] = ()
    # The program the embedded default (console, demo data) opens when DXBOT_PROGRAM is unset;
    # exactly one profile may say so, so no program id is written in code.
    demo_default: bool = False
    # The completion report's outline as the seed asks (Yamagata §3(3) ①–⑦); none: generic.
    completion_report: CompletionReport | None = None
    # The monthly report's outline (Miyazaki's 月次作業報告書 §6(1)イ(イ)), sections as above;
    # without it the monthly deck has the generic outline.
    monthly_report: CompletionReport | None = None
    # Meetings and events the program holds or counts, and the deliverables it owes with their
    # due rules (store/profile_structure.py).
    events: tuple[EventKind, ...] = ()
    deliverables: tuple[Deliverable, ...] = ()
    seed_file: str = ""
    notes: str = ""

    @model_validator(mode="after")
    def _coherent(self) -> ProgramProfile:
        if self.term_end <= self.term_start:
            raise ValueError("term_end must be after term_start")
        ids = [t.id for t in self.tracks]
        if len(ids) != len(set(ids)):
            raise ValueError(f"track ids must be unique, got {ids}")
        if not self.id.endswith(str(self.fiscal_year)):
            raise ValueError(f"id {self.id} must end with the fiscal year {self.fiscal_year}")
        last = self.last_service_day
        if last is not None and not self.term_start <= last <= self.term_end:
            raise ValueError(f"last_service_day {last} is outside the term")
        check_structure(self.events, self.deliverables, ids)
        for rule in self.program_rules:
            unknown = [tid for tid in rule.tracks if tid not in ids]
            if unknown:
                raise ValueError(f"program rule {rule.kind} names unknown tracks {unknown}")
        for track in self.tracks:
            ceiling = track.max_hours or self.max_session_hours
            if track.default_hours > ceiling:
                raise ValueError(
                    f"track {track.id}: default_hours {track.default_hours} exceeds "
                    f"max_session_hours {ceiling}"
                )
            codes = (*track.include_municipalities, *track.exclude_municipalities)
            foreign = [c for c in codes if not c.startswith(self.prefecture_code)]
            if foreign:
                raise ValueError(
                    f"track {track.id}: municipalities {foreign} are not in {self.prefecture}"
                )
        return self

    @property
    def service_end(self) -> dt.date:
        """The last day a session may be held: the 履行期限 where the profile gives one."""
        return self.last_service_day or self.term_end

    def max_hours(self, track: Track) -> float:
        """One session's ceiling in ``track``: the track's own, else the program's."""
        return track.max_hours if track.max_hours is not None else self.max_session_hours

    def track(self, track_id: str) -> Track:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise KeyError(track_id)

    @property
    def default_track(self) -> Track:
        """The track a new consultation counts toward unless staff say otherwise."""
        for t in self.tracks:
            if t.kind == "consultation":
                return t
        return self.tracks[0]


def _describe(err: ValidationError) -> str:
    errors = err.errors()
    parts = []
    for e in errors:
        # pydantic also says a list with one bad item is "too short" (the bad item does not
        # count): only the item's own problem helps the person editing the file.
        inner = [o["loc"][: len(e["loc"])] == e["loc"] for o in errors if o is not e]
        if e["type"] == "too_short" and any(inner):
            continue
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        parts.append(f"field '{loc}': {e['msg']}")
    return "; ".join(parts)


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader keeps the last of two equal keys without a word; a profile edited by
    hand that says ``program_rules:`` twice must be refused, not half-read."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_profile(text: str, source: str) -> ProgramProfile:
    """Validate one profile's YAML text; ``source`` names the file in error messages."""
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        raise ProfileError(f"Profile {source} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ProfileError(
            f"Profile {source} must be a mapping of fields, got {type(raw).__name__}"
        )
    try:
        return ProgramProfile.model_validate(raw)
    except ValidationError as exc:
        raise ProfileError(f"Profile {source} is invalid: {_describe(exc)}") from exc


def load_profile_file(path: Path) -> ProgramProfile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"Profile file {path} cannot be read: {exc.strerror}") from exc
    return parse_profile(text, str(path))


@dataclass(frozen=True)
class ProfileSource:
    """One profile file the deployment knows: its program id, its path, shipped or folder."""

    id: str
    path: str
    where: ProfileWhere


def _shipped_folder() -> Any:
    return resources.files("store").joinpath("profiles")


def shipped_program_ids() -> list[str]:
    """The shipped profiles' ids, from their file names (no YAML read)."""
    return sorted(
        p.name.removesuffix(".yaml")
        for p in _shipped_folder().iterdir()
        if p.name.endswith(".yaml")
    )


@cache
def _load_shipped(program_id: str) -> ProgramProfile:
    res = _shipped_folder().joinpath(f"{program_id}.yaml")
    profile = parse_profile(res.read_text(encoding="utf-8"), f"store/profiles/{program_id}.yaml")
    if profile.id != program_id:
        raise ProfileError(
            f"Profile store/profiles/{program_id}.yaml is invalid: field 'id': "
            f"says '{profile.id}' but the file is named for '{program_id}'"
        )
    return profile


@cache
def _load_folder_file(path: str, mtime_ns: int, size: int) -> ProgramProfile:
    """One folder profile, parsed again only when the file changes (mtime and size key it)."""
    return load_profile_file(Path(path))


def _folder_profiles(folder: Path) -> list[tuple[str, ProgramProfile]]:
    """Every ``*.yaml``/``*.yml`` file of the folder, validated; ids are read from the files
    (not their names), so two files that say one id are caught."""
    if not folder.is_dir():
        raise ProfileError(
            f"Profiles folder {folder} (DXBOT_PROFILES_DIR) does not exist or is not a folder."
        )
    found = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        st = path.stat()
        found.append((str(path), _load_folder_file(str(path), st.st_mtime_ns, st.st_size)))
    return found


def _sources(profiles_dir: Path | None) -> dict[str, tuple[ProfileSource, ProgramProfile | None]]:
    """Shipped and folder profiles by id; a clash of ids is refused naming both files."""
    by_id: dict[str, tuple[ProfileSource, ProgramProfile | None]] = {}
    for pid in shipped_program_ids():
        path = str(_shipped_folder().joinpath(f"{pid}.yaml"))
        by_id[pid] = (ProfileSource(pid, path, "shipped"), None)
    if profiles_dir is None:
        return by_id
    for path, profile in _folder_profiles(profiles_dir):
        other = by_id.get(profile.id)
        if other is not None:
            first = other[0]
            whose = "the shipped profile" if first.where == "shipped" else "the profile"
            raise ProfileError(
                f"Profile {path} has id '{profile.id}', which {whose} {first.path} already "
                "has; each program needs its own id (change 'id' and 'fiscal_year')."
            )
        by_id[profile.id] = (ProfileSource(profile.id, path, "folder"), profile)
    return by_id


def available_programs(profiles_dir: Path | None = None) -> list[ProfileSource]:
    """Every program this deployment can load: the shipped profiles and, with ``profiles_dir``
    (DXBOT_PROFILES_DIR), the folder's, each folder file validated; sorted by id."""
    return [src for src, _ in sorted(_sources(profiles_dir).values(), key=lambda v: v[0].id)]


def load_profile(program_id: str, profiles_dir: Path | None = None) -> ProgramProfile:
    """Load a program's profile by id, shipped or from ``profiles_dir`` (package data, so it
    works from any directory)."""
    if profiles_dir is None and program_id in shipped_program_ids():
        return _load_shipped(program_id)
    sources = _sources(profiles_dir)
    found = sources.get(program_id)
    if found is None:
        known = ", ".join(sorted(sources))
        raise ProfileError(f"Unknown program '{program_id}'. Known programs: {known}.")
    source, profile = found
    return profile if profile is not None else _load_shipped(source.id)


def default_program(profiles_dir: Path | None = None) -> str:
    """The program the embedded default opens when DXBOT_PROGRAM is unset: the one profile that
    says ``demo_default: true``."""
    sources = _sources(profiles_dir)
    flagged = [
        src
        for src, profile in sources.values()
        if (profile if profile is not None else _load_shipped(src.id)).demo_default
    ]
    if len(flagged) == 1:
        return flagged[0].id
    if not flagged:
        raise ProfileError(
            "No program profile says 'demo_default: true'; set DXBOT_PROGRAM to a program id."
        )
    paths = " and ".join(src.path for src in flagged)
    raise ProfileError(
        f"Profiles {paths} all say 'demo_default: true'; only one may (or set DXBOT_PROGRAM)."
    )
