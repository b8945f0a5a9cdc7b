"""PowerPoint decks built from the data (python-pptx): 16:9, native editable charts and tables,
Japanese text with an East Asian font, and never an empty placeholder.

Kinds:

- ``summary`` — any period: overview, KPIs against targets, monthly trend, domains,
  municipalities, expert utilisation and fairness, highlights, issues and learnings, survey,
  next steps, and an appendix table of every session of the period.
- ``monthly`` — 月例業務報告: the same for one month, opening with the month's figures.
- ``completion`` — 事業完了報告 (≥ 10 body slides). For Yamagata FY2026 the outline follows
  §3(3) ①–⑦ of the specification; other programs get the generic outline plus a contents slide.

Fonts: each run, the chart text, the axes, the legend and the data labels get ``a:latin`` and
``a:ea`` in the schema's order (``a:ea`` right after ``a:latin``, before ``a:cs``/``a:sym``/
``a:hlinkClick``), so PowerPoint never offers to repair the file and Japanese glyphs use a
Japanese face.

Narrative sentences are built from the data; when an LLM is configured, ``narrate`` may supply
better-worded ones (personal names masked), and the data-built ones remain the fallback.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import io
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from lxml import etree
from pptx import Presentation
from pptx.chart.chart import Chart
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.text import MSO_ANCHOR
from pptx.oxml.ns import qn
from pptx.oxml.xmlchemy import OxmlElement
from pptx.slide import Slide
from pptx.text.text import Font, TextFrame
from pptx.util import Emu, Inches, Pt
from pydantic import BaseModel, Field

from bot.core.catalog import t
from reminders.calendar import BusinessCalendar, format_jp
from reminders.clock import JST
from reports.casebook import Masker
from reports.status import (
    ExpertSpread,
    Period,
    TermClock,
    TrackProgress,
    expert_spread,
    progress_of_tracks,
    term_clock,
)
from store import reporting
from store.db import Session
from store.profiles import ProgramProfile
from store.reporting import CaseRow, SessionRow, SurveySummary, TrackCount
from store.scope import EVERYTHING, Scope

DeckKind = Literal["summary", "monthly", "completion"]
KINDS: tuple[DeckKind, ...] = ("summary", "monthly", "completion")
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

FONT = "Yu Gothic"
WIDTH, HEIGHT = Emu(12192000), Emu(6858000)  # 16:9, 13.333 × 7.5 in
ACCENT_HEX, GREY_HEX = "1F4E79", "595959"
ACCENT = RGBColor.from_string(ACCENT_HEX)
APPENDIX_ROWS = 16
APPENDIX_MAX_SLIDES = 30
TABLE_ROWS = 12
CELL_MARGIN = 27432  # EMU: 0.03 in above and below the text of a table cell
A_P, A_PPR, A_R, A_RPR, A_LATIN, A_EA, A_T, A_TCPR, A_SOLIDFILL, A_SRGBCLR = (
    qn(f"a:{x}")
    for x in ("p", "pPr", "r", "rPr", "latin", "ea", "t", "tcPr", "solidFill", "srgbClr")
)
HIDE_ZERO = '0;-0;""'  # no "0" label on a bar for a track without that kind of goal
UPCOMING_DAYS = 31


# --- the period -------------------------------------------------------------------------------------


def default_period(kind: DeckKind, profile: ProgramProfile, today: dt.date) -> Period:
    """completion: the whole term; monthly: the previous month (the one being reported);
    summary: from the term start to today."""
    if kind == "completion":
        return Period(profile.term_start, profile.term_end)
    if kind == "monthly":
        first = today.replace(day=1)
        last_month_end = first - dt.timedelta(days=1)
        return month_period(last_month_end.year, last_month_end.month)
    return Period(profile.term_start, max(min(today, profile.term_end), profile.term_start))


def month_period(year: int, month: int) -> Period:
    return Period(
        dt.date(year, month, 1), dt.date(year, month, _calendar.monthrange(year, month)[1])
    )


# --- the data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MuniLine:
    code: str
    name: str
    sessions: int
    hours: float
    by_track: dict[str, int]
    domains: list[str]


@dataclass(frozen=True)
class Highlight:
    municipality: str
    domain: str
    text: str


@dataclass
class DeckData:
    """Everything the slides show, computed once from the rows (the slides only lay it out)."""

    profile: ProgramProfile
    kind: DeckKind
    period: Period
    now: dt.datetime
    scope_label: str
    cutoff: dt.datetime
    clock: TermClock
    tracks: list[TrackProgress]
    months: list[tuple[int, int]]
    monthly: dict[str, list[int]]
    sessions: list[SessionRow]
    domains: list[tuple[str, int]]
    municipalities: list[MuniLine]
    total_municipalities: int
    experts: ExpertSpread
    survey: SurveySummary
    cases_opened: int
    reports: Counter[str]
    joint: list[SessionRow]
    roles: dict[str, int]
    highlights: list[Highlight]
    issues: list[tuple[str, int]]
    upcoming: list[SessionRow]
    narrative: Narrative | None = None

    @property
    def held(self) -> list[SessionRow]:
        return [r for r in self.sessions if r.ends_at <= self.cutoff]

    def track_name(self, track_id: str) -> str:
        try:
            return self.profile.track(track_id).name
        except KeyError:
            return track_id


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=JST)


def _months(start: dt.date, end: dt.date) -> list[tuple[int, int]]:
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(JST)


async def load_deck_data(
    s: Session,
    profile: ProgramProfile,
    cal: BusinessCalendar,
    now: dt.datetime,
    kind: DeckKind,
    period: Period,
    scope: Scope = EVERYTHING,
    scope_label: str = "",
) -> DeckData:
    """A dozen statements: the term's sessions up to the period end (with people, reports and
    surveys), the cases, the experts, the survey figures, the next month's sessions and the
    reference counts. Everything else is arithmetic over those rows."""
    start_dt, end_dt = period.bounds()
    term_start = _day_start(profile.term_start)
    rows = await reporting.sessions_between(
        s, profile.id, min(term_start, start_dt), end_dt, scope, with_reports=True
    )
    cases = await reporting.case_rows(s, profile.id, now, scope)
    experts = await reporting.expert_counts(s, profile.id, now, start_dt, end_dt, scope)
    survey = await reporting.survey_summary(s, profile.id, scope, start_dt, end_dt)
    upcoming = await reporting.sessions_between(
        s, profile.id, max(end_dt, now), end_dt + dt.timedelta(days=UPCOMING_DAYS), scope, limit=50
    )
    munis = await reporting.municipality_names(s, profile.prefecture_code)
    roles = await reporting.user_role_counts(s)
    masker = Masker(await reporting.people_names(s), munis, mask_places=False)
    cutoff = min(now, end_dt)
    clock = term_clock(cal, profile.term_start, profile.term_end, _local(cutoff).date())
    in_period = [r for r in rows if start_dt <= r.starts_at < end_dt]
    held_period = [r for r in in_period if r.ends_at <= cutoff]
    case_by_id = {c.id: c for c in cases}
    return DeckData(
        profile=profile,
        kind=kind,
        period=period,
        now=now,
        scope_label=scope_label,
        cutoff=cutoff,
        clock=clock,
        tracks=progress_of_tracks(profile, _track_counts(rows, cutoff), clock),
        months=_months(min(profile.term_start, period.start), period.end),
        monthly=_monthly(
            profile, rows, cutoff, _months(min(profile.term_start, period.start), period.end)
        ),
        sessions=in_period,
        domains=_domains(cases, start_dt, end_dt),
        municipalities=_municipalities(held_period, case_by_id),
        total_municipalities=len(munis),
        experts=expert_spread(experts),
        survey=survey,
        cases_opened=len([c for c in cases if start_dt <= c.opened_at < end_dt]),
        reports=_report_states(held_period, _local(now).date()),
        joint=[r for r in held_period if len(r.municipalities) > 1],
        roles=roles,
        highlights=_highlights(held_period, case_by_id, masker),
        issues=_issues(held_period, masker),
        upcoming=upcoming,
    )


def _track_counts(rows: list[SessionRow], cutoff: dt.datetime) -> dict[str, TrackCount]:
    acc: dict[str, list[float]] = {}
    for r in rows:
        a = acc.setdefault(r.track_id, [0, 0, 0.0, 0])
        if r.ends_at <= cutoff:
            a[0] += 1
            a[2] += r.hours
            a[3] += r.method == "onsite"
        else:
            a[1] += 1
    return {k: TrackCount(k, int(a[0]), int(a[1]), a[2], int(a[3])) for k, a in acc.items()}


def _monthly(
    profile: ProgramProfile,
    rows: list[SessionRow],
    cutoff: dt.datetime,
    months: list[tuple[int, int]],
) -> dict[str, list[int]]:
    index = {ym: i for i, ym in enumerate(months)}
    out = {t_.id: [0] * len(months) for t_ in profile.tracks}
    for r in rows:
        if r.ends_at > cutoff:
            continue
        local = _local(r.starts_at)
        i = index.get((local.year, local.month))
        if i is not None and r.track_id in out:
            out[r.track_id][i] += 1
    return out


def _domains(cases: list[CaseRow], start: dt.datetime, end: dt.datetime) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for c in cases:
        if start <= c.opened_at < end:
            counts.update(c.domains or [t("deck_unclassified")])
    return counts.most_common()


def _municipalities(rows: list[SessionRow], cases: dict[int, CaseRow]) -> list[MuniLine]:
    acc: dict[str, dict[str, Any]] = {}
    for r in rows:
        domains = cases[r.case_id].domains if r.case_id in cases else []
        for code, name in r.municipalities:
            a = acc.setdefault(
                code, {"name": name, "n": 0, "h": 0.0, "tracks": Counter(), "domains": Counter()}
            )
            a["n"] += 1
            a["h"] += r.hours
            a["tracks"][r.track_id] += 1
            a["domains"].update(domains)
    lines = [
        MuniLine(
            code,
            a["name"],
            a["n"],
            a["h"],
            dict(a["tracks"]),
            [d for d, _ in a["domains"].most_common(2)],
        )
        for code, a in acc.items()
    ]
    return sorted(lines, key=lambda m: (-m.sessions, m.code))


def _report_states(rows: list[SessionRow], today: dt.date) -> Counter[str]:
    states: Counter[str] = Counter()
    for r in rows:
        if r.report_submitted_at is not None:
            late = _local(r.report_submitted_at).date() > r.report_due
            states["late" if late else "on_time"] += 1
        else:
            states["overdue" if r.report_due < today else "pending"] += 1
    return states


def _text_of(report: dict[str, Any] | None, key: str) -> str:
    value = (report or {}).get(key) or ""
    return " ".join(str(value).split())


def _highlights(
    rows: list[SessionRow], cases: dict[int, CaseRow], masker: Masker, limit: int = 6
) -> list[Highlight]:
    """The effects the experts reported, newest first, one per municipality and domain."""
    seen: set[tuple[str, str]] = set()
    out = []
    for r in sorted(rows, key=lambda r: r.starts_at, reverse=True):
        effect = _text_of(r.report, "effect")
        if not effect:
            continue
        case = cases.get(r.case_id)
        domain = (case.domains[0] if case and case.domains else "") or t("deck_unclassified")
        muni = r.municipality_names[0] if r.municipality_names else ""
        if (muni, domain) in seen:
            continue
        seen.add((muni, domain))
        out.append(Highlight(muni, domain, masker.text(effect)))
        if len(out) >= limit:
            break
    return out


def _issues(rows: list[SessionRow], masker: Masker, limit: int = 4) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter(
        masker.text(_text_of(r.report, "issues")) for r in rows if _text_of(r.report, "issues")
    )
    return counts.most_common(limit)


# --- narrative --------------------------------------------------------------------------------------


class Narrative(BaseModel):
    """Sentences an LLM may word better; each list replaces the data-built one when not empty."""

    highlights: list[str] = Field(default_factory=list, max_length=6)
    issues: list[str] = Field(default_factory=list, max_length=6)
    next_steps: list[str] = Field(default_factory=list, max_length=6)


class NarrativeLLM(Protocol):
    enabled: bool

    async def extract(
        self, instructions: str, text: str, schema: type[Narrative], names: Iterable[str] = ()
    ) -> Narrative | None: ...


async def narrate(llm: NarrativeLLM, data: DeckData, names: Iterable[str]) -> Narrative | None:
    """Ask the LLM port for better-worded sentences from the data-built ones; None when it is
    off, slow or wrong (the deck then uses the data-built sentences)."""
    if not getattr(llm, "enabled", False):
        return None
    facts = "\n".join(
        [
            t("deck_llm_section_highlights"),
            *highlight_lines(data),
            t("deck_llm_section_issues"),
            *issue_lines(data),
            t("deck_llm_section_next"),
            *next_step_lines(data),
        ]
    )
    result = await llm.extract(t("deck_llm_instructions"), facts, Narrative, names)
    if result is None:
        return None
    cleaned = Narrative(
        highlights=[x.strip()[:160] for x in result.highlights if x.strip()],
        issues=[x.strip()[:160] for x in result.issues if x.strip()],
        next_steps=[x.strip()[:160] for x in result.next_steps if x.strip()],
    )
    return cleaned if (cleaned.highlights or cleaned.issues or cleaned.next_steps) else None


# --- sentences from the data ------------------------------------------------------------------------


def _n(value: float, digits: int = 1) -> str:
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


def highlight_lines(d: DeckData) -> list[str]:
    if d.narrative and d.narrative.highlights:
        return d.narrative.highlights
    if not d.highlights:
        return [t("deck_no_highlights")]
    return [
        t("deck_highlight", municipality=h.municipality, domain=h.domain, effect=h.text)
        for h in d.highlights
    ]


def issue_lines(d: DeckData) -> list[str]:
    if d.narrative and d.narrative.issues:
        return d.narrative.issues
    lines = [t("deck_issue_found", text=text, n=n) for text, n in d.issues]
    submitted = d.reports["on_time"] + d.reports["late"]
    if submitted or d.reports["overdue"]:
        rate = d.reports["on_time"] / (submitted + d.reports["overdue"]) * 100
        lines.append(
            t(
                "deck_issue_reports",
                on_time=d.reports["on_time"],
                late=d.reports["late"],
                overdue=d.reports["overdue"],
                rate=_n(rate),
            )
        )
    behind = [tp.name for tp in d.tracks if tp.state == "behind"]
    if behind:
        lines.append(t("deck_issue_behind", names="、".join(behind)))
    not_yet = d.survey.by_resolved.get("not_yet", 0)
    if not_yet:
        lines.append(t("deck_issue_unresolved", n=not_yet))
    if d.experts.experts and d.experts.maximum - d.experts.minimum >= 3:
        lines.append(t("deck_issue_fairness", max=d.experts.maximum, min=d.experts.minimum))
    return lines or [t("deck_no_issues")]


def next_step_lines(d: DeckData) -> list[str]:
    if d.narrative and d.narrative.next_steps:
        return d.narrative.next_steps
    lines = []
    for tp in d.tracks:
        if tp.goal is None or tp.state == "achieved":
            continue
        if tp.pace_needed is not None:
            lines.append(
                t(
                    "deck_next_track",
                    name=tp.name,
                    remaining=tp.remaining,
                    days=d.clock.remaining,
                    pace=_n(tp.pace_needed * 5),
                )
            )
    uncovered = d.total_municipalities - len({m.code for m in d.municipalities})
    if d.scope_label == "" and uncovered > 0:
        lines.append(t("deck_next_uncovered", n=uncovered))
    if d.upcoming:
        lines.append(t("deck_next_upcoming", n=len(d.upcoming), days=UPCOMING_DAYS))
    if d.reports["overdue"]:
        lines.append(t("deck_next_overdue", n=d.reports["overdue"]))
    return lines or [t("deck_next_none")]


# --- low-level building blocks ----------------------------------------------------------------------


def _set_ea(rpr: Any) -> None:
    """``a:latin`` then ``a:ea`` with the Japanese face, in the schema's order."""
    latin = rpr.get_or_add_latin()  # python-pptx places a:latin before any a:ea/a:cs/a:sym
    latin.set("typeface", FONT)
    ea = rpr.find(qn("a:ea"))
    if ea is None:
        ea = OxmlElement("a:ea")
        latin.addnext(ea)
    ea.set("typeface", FONT)


def _xml_text(text: str) -> str:
    """Text fit for an XML text node: no control characters, one line."""
    return "".join(c if c >= " " or c == "\t" else " " for c in text)


def _one_run(
    tf: TextFrame, text: str, size: float, *, bold: bool = False, color: str = "", align: str = ""
) -> None:
    """A text frame holding one run, written as XML (titles and footers of every slide):
    ``a:rPr`` children in schema order — fill, then ``a:latin``, then ``a:ea``."""
    body = tf._txBody
    for old in body.findall(A_P):
        body.remove(old)
    p = etree.SubElement(body, A_P)
    if align:
        etree.SubElement(p, A_PPR, {"algn": align})
    r = etree.SubElement(p, A_R)
    rpr = etree.SubElement(
        r, A_RPR, {"lang": "ja-JP", "sz": str(int(size * 100)), "b": "1" if bold else "0"}
    )
    if color:
        fill = etree.SubElement(rpr, A_SOLIDFILL)
        etree.SubElement(fill, A_SRGBCLR, {"val": color})
    etree.SubElement(rpr, A_LATIN, {"typeface": FONT})
    etree.SubElement(rpr, A_EA, {"typeface": FONT})
    etree.SubElement(r, A_T).text = _xml_text(text)


def _font(font: Font, size: float | None = None, bold: bool | None = None) -> None:
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    _set_ea(font._rPr)  # python-pptx has no public a:ea API


def _fonts_in_chart(chart: Chart) -> None:
    """Chart text, legend, axes and data labels (each has its own text properties)."""
    _font(chart.font, 12)
    if chart.has_legend:
        _font(chart.legend.font, 11)
    for plot in chart.plots:
        if plot.has_data_labels:
            _font(plot.data_labels.font, 10)
    try:
        axes = [chart.category_axis, chart.value_axis]
    except ValueError:  # a pie has no axes
        axes = []
    for axis in axes:
        _font(axis.tick_labels.font, 11)


def remove_empty_placeholders(slide: Slide) -> None:
    for ph in list(slide.placeholders):
        if not ph.has_text_frame or not ph.text_frame.text.strip():
            ph._element.getparent().remove(ph._element)


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    width: float
    height: float

    def emu(self) -> tuple[Emu, Emu, Emu, Emu]:
        return Inches(self.left), Inches(self.top), Inches(self.width), Inches(self.height)


BODY = Box(0.6, 1.35, 12.13, 5.55)
LEFT = Box(0.6, 1.35, 6.4, 5.55)
RIGHT = Box(7.2, 1.35, 5.53, 5.55)
TOP_NOTE = Box(0.6, 1.3, 12.13, 0.6)
UNDER_NOTE = Box(0.6, 1.95, 12.13, 4.95)


class DeckBuilder:
    """Holds the presentation; each method adds one kind of element in the house style."""

    def __init__(self) -> None:
        self.prs = Presentation()
        self.prs.slide_width = WIDTH
        self.prs.slide_height = HEIGHT

    def title_slide(self, title: str, subtitle: str) -> Slide:
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[0])
        head, sub = slide.shapes.title, slide.placeholders[1]
        head.left, head.top, head.width, head.height = (
            Inches(0.8),
            Inches(2.0),
            Inches(11.73),
            Inches(1.6),
        )
        sub.left, sub.top, sub.width, sub.height = (
            Inches(0.8),
            Inches(3.8),
            Inches(11.73),
            Inches(2.2),
        )
        head.text_frame.text = title
        for p in head.text_frame.paragraphs:
            for r in p.runs:
                _font(r.font, 36, True)
                r.font.color.rgb = ACCENT
        self._lines(sub.text_frame, subtitle.split("\n"), 18)
        remove_empty_placeholders(slide)
        return slide

    def slide(self, title: str) -> Slide:
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[5])  # Title Only
        head = slide.shapes.title
        head.left, head.top, head.width, head.height = (
            Inches(0.5),
            Inches(0.3),
            Inches(12.33),
            Inches(0.9),
        )
        head.text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE
        _one_run(head.text_frame, title, 26, bold=True, color=ACCENT_HEX, align="l")
        line = slide.shapes.add_connector(1, Inches(0.5), Inches(1.22), Inches(12.83), Inches(1.22))
        line.line.color.rgb = ACCENT
        remove_empty_placeholders(slide)
        return slide

    @staticmethod
    def _lines(tf: TextFrame, lines: Sequence[str], size: float, bullet: bool = False) -> None:
        tf.word_wrap = True
        for i, text in enumerate(lines):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            run = p.add_run()
            run.text = (
                t("deck_bullet") if bullet and not text.startswith(("　", " ")) else ""
            ) + text
            _font(run.font, size)
            p.space_after = Pt(6)

    def text(
        self,
        slide: Slide,
        lines: Sequence[str],
        box: Box = BODY,
        size: float = 18,
        bullet: bool = True,
    ) -> None:
        shape = slide.shapes.add_textbox(*box.emu())
        self._lines(shape.text_frame, [ln for ln in lines if ln], size, bullet)

    def table(
        self,
        slide: Slide,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        box: Box = BODY,
        widths: Sequence[float] | None = None,
        size: float = 12,
    ) -> None:
        n_rows = len(rows) + 1
        height = min(box.height, 0.4 * n_rows)
        # python-pptx makes a header and one body row; the other body rows are copies of that
        # row's XML (thousands of cells in a deck: its per-cell API would cost seconds).
        shape = slide.shapes.add_table(
            min(n_rows, 2), len(headers), *Box(box.left, box.top, box.width, height).emu()
        )
        tbl = shape.table._tbl
        row_height = str(int(Inches(height) / n_rows))
        for tr in tbl.tr_lst:
            tr.set("h", row_height)
        if n_rows > 2:
            template = tbl.tr_lst[-1]
            for _ in range(n_rows - 2):
                tbl.append(deepcopy(template))
        if widths:
            total = sum(widths)
            for col, w in zip(tbl.tblGrid.gridCol_lst, widths, strict=True):
                col.set("w", str(int(Inches(box.width) * w / total)))
        for r, (tr, values) in enumerate(zip(tbl.tr_lst, [headers, *rows], strict=True)):
            for tc, text in zip(tr.tc_lst, values, strict=True):
                self._cell(tc, text, size, bold=r == 0)

    @staticmethod
    def _cell(tc: Any, text: str, size: float, bold: bool = False) -> None:
        """One table cell (``a:tc``), written as XML directly: an appendix holds thousands of
        cells, and python-pptx's per-property API costs about a millisecond each."""
        p = tc.txBody.find(A_P)
        for child in list(p):
            p.remove(child)
        r = etree.SubElement(p, A_R)
        rpr = etree.SubElement(
            r, A_RPR, {"lang": "ja-JP", "sz": str(int(size * 100)), "b": "1" if bold else "0"}
        )
        etree.SubElement(rpr, A_LATIN, {"typeface": FONT})
        etree.SubElement(rpr, A_EA, {"typeface": FONT})
        etree.SubElement(r, A_T).text = _xml_text(text) or "－"
        tcpr = tc.find(A_TCPR)
        if tcpr is None:
            tcpr = tc.get_or_add_tcPr()
        tcpr.set("marT", str(CELL_MARGIN))
        tcpr.set("marB", str(CELL_MARGIN))

    def chart(
        self,
        slide: Slide,
        kind: XL_CHART_TYPE,
        categories: Sequence[str],
        series: Sequence[tuple[str, Sequence[float]]],
        box: Box = BODY,
        *,
        legend: bool = True,
        labels: bool = True,
        number_format: str = "0",
        label_format: str | None = None,
    ) -> Chart:
        data = CategoryChartData(number_format=number_format)
        data.categories = list(categories)
        for name, values in series:
            data.add_series(name, list(values))
        chart = slide.shapes.add_chart(kind, *box.emu(), data).chart
        chart.has_title = False
        chart.has_legend = legend
        if legend:
            chart.legend.position = XL_LEGEND_POSITION.BOTTOM
            chart.legend.include_in_layout = False
        if labels:
            plot = chart.plots[0]
            plot.has_data_labels = True
            plot.data_labels.number_format = (
                "0%" if kind == XL_CHART_TYPE.PIE else label_format or number_format
            )
            plot.data_labels.number_format_is_linked = False
            if kind == XL_CHART_TYPE.PIE:
                plot.data_labels.show_percentage = True
                plot.data_labels.show_value = False
        if kind in (XL_CHART_TYPE.BAR_CLUSTERED, XL_CHART_TYPE.BAR_STACKED):
            chart.category_axis.reverse_order = True  # first category at the top
        _fonts_in_chart(chart)
        return chart

    def finish(self, footer: str) -> bytes:
        total = len(self.prs.slides)
        for i, slide in enumerate(self.prs.slides, start=1):
            if i == 1:
                continue
            box = slide.shapes.add_textbox(Inches(0.5), Inches(7.05), Inches(12.33), Inches(0.35))
            text = t("deck_footer", program=footer, page=i, total=total)
            _one_run(box.text_frame, text, 10, color=GREY_HEX, align="r")
        for slide in self.prs.slides:
            remove_empty_placeholders(slide)
        buf = io.BytesIO()
        self.prs.save(buf)
        return buf.getvalue()


# --- slides -----------------------------------------------------------------------------------------

SlideFn = Callable[[DeckBuilder, DeckData], None]


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _period_text(d: DeckData) -> str:
    return t("deck_period", start=format_jp(d.period.start), end=format_jp(d.period.end))


def _track_label(d: DeckData, track_id: str) -> str:
    return _short(d.track_name(track_id), 18)


def slide_title(b: DeckBuilder, d: DeckData) -> None:
    p = d.profile
    if d.kind == "monthly":
        title = t(
            "deck_title_monthly",
            month=t("deck_month", year=d.period.start.year, month=d.period.start.month),
        )
    else:
        title = t(f"deck_title_{d.kind}")
    scope = t("deck_scope", name=d.scope_label) if d.scope_label else ""
    b.title_slide(
        title,
        t(
            "deck_subtitle",
            program=p.name,
            prefecture=p.prefecture,
            period=_period_text(d),
            scope=scope,
            made=format_jp(_local(d.now).date()),
        ),
    )


def slide_contents(b: DeckBuilder, d: DeckData, items: Sequence[str]) -> None:
    slide = b.slide(t("deck_contents_title"))
    b.text(slide, items, size=20, bullet=False)


def slide_overview(b: DeckBuilder, d: DeckData, title_key: str = "deck_overview_title") -> None:
    p = d.profile
    slide = b.slide(t(title_key))
    covered = len({m.code for m in d.municipalities})
    lines = [
        t("deck_overview_program", name=p.name),
        t("deck_overview_term", start=format_jp(p.term_start), end=format_jp(p.term_end)),
        _period_text(d),
        t("deck_overview_municipalities", total=d.total_municipalities, covered=covered),
        t("deck_overview_people", experts=d.roles.get("expert", 0), staff=d.roles.get("staff", 0)),
    ]
    b.text(slide, lines, Box(0.6, 1.35, 12.13, 2.3), size=16)
    rows = [
        [
            _short(tr.name, 30),
            str(tr.target) if tr.target is not None else "－",
            str(tr.minimum) if tr.minimum is not None else "－",
            str(tr.per_municipality_cap) if tr.per_municipality_cap else "－",
            _n(tr.default_hours),
            t("deck_open_days", n=tr.report_open_days),
        ]
        for tr in p.tracks
    ]
    b.table(
        slide,
        [t(f"deck_col_{k}") for k in ("track", "target", "minimum", "cap", "hours", "deadline")],
        rows,
        Box(0.6, 3.8, 12.13, 3.0),
        widths=(5, 1.2, 1.2, 1.6, 1.4, 2),
        size=12,
    )


def slide_month_summary(b: DeckBuilder, d: DeckData) -> None:
    slide = b.slide(
        t(
            "deck_month_title",
            month=t("deck_month", year=d.period.start.year, month=d.period.start.month),
        )
    )
    held = d.held
    lines = [
        t("deck_month_cases", n=d.cases_opened),
        t("deck_month_sessions", n=len(held), hours=_n(sum(r.hours for r in held))),
        t(
            "deck_month_reports",
            on_time=d.reports["on_time"],
            late=d.reports["late"],
            pending=d.reports["pending"],
            overdue=d.reports["overdue"],
        ),
        t(
            "deck_month_survey",
            n=d.survey.answered,
            avg=_n(d.survey.average, 2) if d.survey.average else "－",
        ),
        t("deck_month_municipalities", n=len(d.municipalities)),
    ]
    b.text(slide, lines, LEFT, size=18)
    by_track = Counter(r.track_id for r in held)
    rows = [[_short(tr.name, 24), str(by_track.get(tr.id, 0))] for tr in d.profile.tracks]
    b.table(
        slide, [t("deck_col_track"), t("deck_col_sessions")], rows, RIGHT, widths=(4, 1.3), size=13
    )


def slide_kpi(b: DeckBuilder, d: DeckData, title_key: str = "deck_kpi_title") -> None:
    slide = b.slide(t(title_key))
    b.text(
        slide,
        [t("deck_kpi_note", date=format_jp(_local(d.cutoff).date()))],
        TOP_NOTE,
        size=14,
        bullet=False,
    )
    cats = [_track_label(d, tp.track_id) for tp in d.tracks]
    b.chart(
        slide,
        XL_CHART_TYPE.BAR_CLUSTERED,
        cats,
        [
            (t("deck_series_held"), [tp.held for tp in d.tracks]),
            (t("deck_series_goal"), [tp.target or 0 for tp in d.tracks]),
            (t("deck_series_minimum"), [tp.minimum or 0 for tp in d.tracks]),
        ],
        Box(0.6, 1.95, 7.4, 4.95),
        label_format=HIDE_ZERO,
    )
    lines = []
    for tp in d.tracks:
        if tp.goal is None:
            lines.append(t("deck_kpi_line_nogoal", name=_track_label(d, tp.track_id), held=tp.held))
        else:
            lines.append(
                t(
                    "deck_kpi_line",
                    name=_track_label(d, tp.track_id),
                    held=tp.held,
                    goal=tp.goal,
                    rate=_n(tp.held / tp.goal * 100 if tp.goal else 0),
                    state=t(f"deck_state_{tp.state}"),
                )
            )
    b.text(slide, lines, Box(8.2, 1.95, 4.53, 4.95), size=13)


def slide_trend(b: DeckBuilder, d: DeckData, title_key: str = "deck_trend_title") -> None:
    slide = b.slide(t(title_key))
    cats = [t("deck_month_short", month=m) for _, m in d.months]
    series = [(_track_label(d, tid), values) for tid, values in d.monthly.items()]
    b.chart(slide, XL_CHART_TYPE.COLUMN_STACKED, cats, series, BODY, label_format=HIDE_ZERO)


def slide_domains(b: DeckBuilder, d: DeckData, title_key: str = "deck_domains_title") -> None:
    slide = b.slide(t(title_key))
    if not d.domains:
        b.text(slide, [t("deck_no_cases")])
        return
    top = d.domains[:10]
    b.chart(
        slide,
        XL_CHART_TYPE.BAR_CLUSTERED,
        [_short(name, 22) for name, _ in top],
        [(t("deck_series_cases"), [n for _, n in top])],
        Box(0.6, 1.35, 8.2, 5.55),
        legend=False,
    )
    lines = [t("deck_domains_total", n=d.cases_opened)]
    if len(d.domains) > len(top):
        lines.append(t("deck_domains_more", n=len(d.domains) - len(top)))
    b.text(slide, lines, Box(9.0, 1.35, 3.73, 5.55), size=14)


def slide_municipalities(b: DeckBuilder, d: DeckData, title_key: str = "deck_munis_title") -> None:
    lines = d.municipalities
    if not lines:
        slide = b.slide(t(title_key))
        b.text(slide, [t("deck_no_sessions")])
        return
    pages = [lines[i : i + TABLE_ROWS] for i in range(0, len(lines), TABLE_ROWS)][:5]
    for n, page in enumerate(pages, start=1):
        title = t(title_key) + (t("deck_page", page=n, pages=len(pages)) if len(pages) > 1 else "")
        slide = b.slide(title)
        b.text(
            slide,
            [t("deck_munis_note", covered=len(lines), total=d.total_municipalities)],
            TOP_NOTE,
            size=14,
            bullet=False,
        )
        rows = [
            [
                m.name,
                str(m.sessions),
                _n(m.hours),
                "・".join(f"{_short(d.track_name(k), 8)}{v}" for k, v in m.by_track.items()),
                "、".join(_short(x, 14) for x in m.domains) or "－",
            ]
            for m in page
        ]
        b.table(
            slide,
            [
                t(f"deck_col_{k}")
                for k in ("municipality", "sessions", "hours", "by_track", "domains")
            ],
            rows,
            UNDER_NOTE,
            widths=(1.6, 1, 1, 3.6, 4.4),
            size=12,
        )


def slide_experts(b: DeckBuilder, d: DeckData, title_key: str = "deck_experts_title") -> None:
    slide = b.slide(t(title_key))
    sp = d.experts
    if not sp.experts:
        b.text(slide, [t("deck_no_experts")])
        return
    shown = sp.experts[:15]
    b.chart(
        slide,
        XL_CHART_TYPE.COLUMN_CLUSTERED,
        [_short(e.name, 8) for e in shown],
        [(t("deck_series_sessions"), [e.sessions for e in shown])],
        Box(0.6, 1.35, 8.2, 5.55),
        legend=False,
    )
    lines = [
        t("deck_experts_count", n=len(sp.experts)),
        t(
            "deck_experts_spread",
            max=sp.maximum,
            min=sp.minimum,
            mean=_n(sp.mean),
            stdev=_n(sp.stdev),
        ),
        t("deck_experts_hours", hours=_n(sum(e.hours_held for e in sp.experts))),
    ]
    b.text(slide, lines, Box(9.0, 1.35, 3.73, 5.55), size=14)


def slide_highlights(b: DeckBuilder, d: DeckData, title_key: str = "deck_highlights_title") -> None:
    slide = b.slide(t(title_key))
    b.text(slide, [_short(x, 110) for x in highlight_lines(d)], size=16)


def slide_issues(b: DeckBuilder, d: DeckData, title_key: str = "deck_issues_title") -> None:
    slide = b.slide(t(title_key))
    b.text(slide, [_short(x, 110) for x in issue_lines(d)], size=16)


def slide_survey(b: DeckBuilder, d: DeckData, title_key: str = "deck_survey_title") -> None:
    slide = b.slide(t(title_key))
    sv = d.survey
    if not sv.answered:
        b.text(slide, [t("deck_no_survey", waiting=sv.requested_unanswered)])
        return
    b.chart(
        slide,
        XL_CHART_TYPE.PIE,
        [t("deck_satisfaction", n=k) for k in range(5, 0, -1)],
        [(t("deck_series_answers"), [sv.by_satisfaction.get(k, 0) for k in range(5, 0, -1)])],
        Box(0.6, 1.35, 5.9, 5.55),
    )
    keys = ("resolved", "partly", "not_yet")
    b.chart(
        slide,
        XL_CHART_TYPE.BAR_CLUSTERED,
        [t(f"sv_resolved_{k}") for k in keys],
        [(t("deck_series_answers"), [sv.by_resolved.get(k, 0) for k in keys])],
        Box(6.7, 1.35, 6.03, 3.6),
        legend=False,
    )
    b.text(
        slide,
        [
            t(
                "deck_survey_line",
                n=sv.answered,
                avg=_n(sv.average, 2) if sv.average is not None else "－",
            )
        ],
        Box(6.7, 5.1, 6.03, 1.8),
        size=16,
    )


def slide_next(b: DeckBuilder, d: DeckData, title_key: str = "deck_next_title") -> None:
    slide = b.slide(t(title_key))
    b.text(slide, [_short(x, 110) for x in next_step_lines(d)], size=16)


def _report_cell(r: SessionRow, cutoff: dt.datetime, today: dt.date) -> str:
    if r.report_submitted_at is not None:
        return t("deck_report_done", date=_local(r.report_submitted_at).strftime("%m/%d"))
    if r.ends_at > cutoff:
        return t("deck_report_planned")
    return t("deck_report_overdue") if r.report_due < today else t("deck_report_pending")


def slide_appendix(b: DeckBuilder, d: DeckData, title_key: str = "deck_appendix_title") -> None:
    rows = d.sessions
    if not rows:
        slide = b.slide(t(title_key))
        b.text(slide, [t("deck_no_sessions")])
        return
    today = _local(d.now).date()
    limit = APPENDIX_ROWS * APPENDIX_MAX_SLIDES
    pages = [rows[i : i + APPENDIX_ROWS] for i in range(0, min(len(rows), limit), APPENDIX_ROWS)]
    for n, page in enumerate(pages, start=1):
        slide = b.slide(
            t(title_key) + (t("deck_page", page=n, pages=len(pages)) if len(pages) > 1 else "")
        )
        table_rows = [
            [
                format_jp(_local(r.starts_at).date()),
                r.case_no,
                "・".join(r.municipality_names),
                _short(d.track_name(r.track_id), 12),
                t(f"sv_method_{r.method}") if r.method in ("online", "onsite") else r.method,
                _n(r.hours),
                "、".join(r.expert_names) or "－",
                _report_cell(r, d.cutoff, today),
            ]
            for r in page
        ]
        box = BODY
        if n == len(pages) and len(rows) > limit:
            b.text(
                slide,
                [t("deck_appendix_more", n=len(rows) - limit)],
                Box(0.6, 6.5, 12.13, 0.4),
                size=12,
                bullet=False,
            )
        b.table(
            slide,
            [
                t(f"deck_col_{k}")
                for k in (
                    "date",
                    "case",
                    "municipality",
                    "track",
                    "method",
                    "hours",
                    "experts",
                    "report",
                )
            ],
            table_rows,
            box,
            widths=(2.1, 2.0, 2.2, 2.2, 1.2, 0.8, 2.0, 1.6),
            size=10,
        )


# --- Yamagata §3(3) ①–⑦ ----------------------------------------------------------------------------


def y_purpose(b: DeckBuilder, d: DeckData) -> None:
    slide_overview(b, d, "deck_y1_title")


def y_collaboration(b: DeckBuilder, d: DeckData) -> None:
    slide = b.slide(t("deck_y4_title"))
    acc = [tp for tp in d.tracks if tp.kind in ("accompaniment", "bpr")]
    lines = [
        t(
            "deck_y4_joint",
            n=len(d.joint),
            munis=len({c for r in d.joint for c, _ in r.municipalities}),
        ),
        *[
            t(
                "deck_y4_track",
                name=_short(tp.name, 40),
                held=tp.held,
                minimum=tp.minimum if tp.minimum is not None else "－",
                onsite=tp.onsite_held,
            )
            for tp in acc
        ],
        t("deck_y4_effect" if d.joint else "deck_y4_none"),
    ]
    b.text(slide, lines, LEFT, size=15)
    rows = [
        [
            format_jp(_local(r.starts_at).date()),
            "・".join(r.municipality_names),
            _short(d.track_name(r.track_id), 14),
        ]
        for r in d.joint[:10]
    ]
    if rows:
        b.table(
            slide,
            [t("deck_col_date"), t("deck_col_municipality"), t("deck_col_track")],
            rows,
            RIGHT,
            widths=(2, 3, 2.2),
            size=11,
        )
    else:
        b.text(slide, [t("deck_y4_hint")], RIGHT, size=14)


def y_pool(b: DeckBuilder, d: DeckData) -> None:
    slide_experts(b, d, "deck_y3_title")
    slide = b.prs.slides[-1]
    lines = [
        t("deck_y3_proposal"),
        t("deck_y3_issue", max=d.experts.maximum, min=d.experts.minimum),
    ]
    b.text(slide, lines, Box(9.0, 4.2, 3.73, 2.7), size=12)


def y_structure(b: DeckBuilder, d: DeckData) -> None:
    slide = b.slide(t("deck_y5_title"))
    roles = ("prefecture", "staff", "expert", "officer")
    rows = [[t(f"deck_role_{r}"), str(d.roles.get(r, 0)), t(f"deck_role_duty_{r}")] for r in roles]
    b.table(
        slide,
        [t("deck_col_role"), t("deck_col_people"), t("deck_col_duty")],
        rows,
        Box(0.6, 1.35, 12.13, 2.6),
        widths=(2, 1, 8),
        size=12,
    )
    approver = t(f"deck_y5_approver_{d.profile.match_approver}")
    submitted = d.reports["on_time"] + d.reports["late"]
    lines = [
        t("deck_y5_flow", approver=approver),
        t(
            "deck_y5_reports",
            on_time=d.reports["on_time"],
            submitted=submitted,
            days=d.profile.default_track.report_open_days,
        ),
        t("deck_y5_cost"),
    ]
    b.text(slide, lines, Box(0.6, 4.2, 12.13, 2.7), size=14)


def y_roadmap(b: DeckBuilder, d: DeckData) -> None:
    slide = b.slide(t("deck_y6_title"))
    top = "、".join(name for name, _ in d.domains[:3]) or t("deck_unclassified")
    uncovered = max(d.total_municipalities - len({m.code for m in d.municipalities}), 0)
    rows = [
        [t("deck_y6_short"), t("deck_y6_short_text", overdue=d.reports["overdue"], top=top)],
        [t("deck_y6_mid"), t("deck_y6_mid_text", n=uncovered)],
        [t("deck_y6_long"), t("deck_y6_long_text")],
    ]
    b.table(
        slide,
        [t("deck_col_horizon"), t("deck_col_actions")],
        rows,
        Box(0.6, 1.35, 12.13, 3.2),
        widths=(1.6, 8),
        size=13,
    )
    b.text(
        slide, [_short(x, 110) for x in next_step_lines(d)][:4], Box(0.6, 4.8, 12.13, 2.1), size=14
    )


def y_proposals(b: DeckBuilder, d: DeckData) -> None:
    slide = b.slide(t("deck_y7_title"))
    top = "、".join(name for name, _ in d.domains[:3]) or t("deck_unclassified")
    avg = _n(d.survey.average, 2) if d.survey.average is not None else "－"
    lines = [
        t("deck_y7_domains", top=top),
        t("deck_y7_pool", n=len(d.experts.experts)),
        t("deck_y7_joint", n=len(d.joint)) if d.joint else t("deck_y7_joint_none"),
        t("deck_y7_survey", avg=avg, n=d.survey.answered),
        t("deck_y7_reports"),
    ]
    b.text(slide, lines, size=16)


# --- outlines ---------------------------------------------------------------------------------------

GENERIC: tuple[SlideFn, ...] = (
    slide_overview,
    slide_kpi,
    slide_trend,
    slide_domains,
    slide_municipalities,
    slide_experts,
    slide_highlights,
    slide_issues,
    slide_survey,
    slide_next,
    slide_appendix,
)

MONTHLY: tuple[SlideFn, ...] = (slide_month_summary, *GENERIC[1:])


def _titled(fn: Callable[[DeckBuilder, DeckData, str], None], key: str) -> SlideFn:
    return lambda b, d: fn(b, d, key)


YAMAGATA: tuple[SlideFn, ...] = (
    y_purpose,
    _titled(slide_kpi, "deck_y2_kpi_title"),
    _titled(slide_trend, "deck_y2_trend_title"),
    _titled(slide_domains, "deck_y2_domains_title"),
    _titled(slide_municipalities, "deck_y2_munis_title"),
    _titled(slide_highlights, "deck_y2_effects_title"),
    _titled(slide_survey, "deck_y2_survey_title"),
    y_pool,
    y_collaboration,
    y_structure,
    y_roadmap,
    y_proposals,
    slide_appendix,
)

COMPLETION_OUTLINES: dict[str, tuple[tuple[SlideFn, ...], tuple[str, ...]]] = {
    "yamagata-2026": (
        YAMAGATA,
        (
            "deck_y1_title",
            "deck_y2_title",
            "deck_y3_title",
            "deck_y4_title",
            "deck_y5_title",
            "deck_y6_title",
            "deck_y7_title",
            "deck_appendix_title",
        ),
    ),
}
GENERIC_CONTENTS = (
    "deck_overview_title",
    "deck_kpi_title",
    "deck_trend_title",
    "deck_domains_title",
    "deck_munis_title",
    "deck_experts_title",
    "deck_highlights_title",
    "deck_issues_title",
    "deck_survey_title",
    "deck_next_title",
    "deck_appendix_title",
)


def build_deck(d: DeckData) -> tuple[bytes, int]:
    """The .pptx bytes and the slide count: the title slide, then the outline of the kind (and
    of the program, for a completion report)."""
    b = DeckBuilder()
    slide_title(b, d)
    if d.kind == "completion":
        outline, contents = COMPLETION_OUTLINES.get(d.profile.id, (GENERIC, GENERIC_CONTENTS))
        slide_contents(b, d, [t(k) for k in contents])
        slides = outline
    elif d.kind == "monthly":
        slides = MONTHLY
    else:
        slides = GENERIC
    for fn in slides:
        fn(b, d)
    return b.finish(d.profile.name), len(b.prs.slides)


@dataclass(frozen=True)
class DeckFile:
    name: str
    content: bytes
    title: str
    slides: int
    content_type: str = PPTX


def deck_file(d: DeckData) -> DeckFile:
    """Build the deck and name it after the program, the kind and the period."""
    content, slides = build_deck(d)
    start, end = d.period.start.strftime("%Y%m%d"), d.period.end.strftime("%Y%m%d")
    return DeckFile(
        name=f"{d.profile.id}_{d.kind}_{start}-{end}.pptx",
        content=content,
        title=t("deck_file_title", kind=t(f"deck_kind_{d.kind}"), period=_period_text(d)),
        slides=slides,
    )
