"""Templates (Jinja2, autoescaped: whatever a case text holds is shown as text, never run) and
the monthly trend chart as SVG elements (attributes only, no inline style or script)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.core.catalog import MESSAGES, t
from bot.core.permissions import role_label
from reminders.calendar import format_jp, format_jp_datetime
from reminders.clock import JST
from reports.render_status import method_label, num, resolved_label, status_label
from store.web_queries import Trend

PALETTE = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#718096")


def _date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(JST).date()
    return format_jp(value)


def _datetime(value: dt.datetime | None) -> str:
    return "" if value is None else format_jp_datetime(value)


def _label(prefix: str, key: str) -> str:
    """A catalogue label where there is one (``ex_col_summary``), else the key itself."""
    return t(prefix + key) if prefix + key in MESSAGES else key


class Renderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("bot.web", "templates"),
            autoescape=select_autoescape(["html"], default_for_string=True, default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            t=t,
            status_label=status_label,
            method_label=method_label,
            resolved_label=resolved_label,
            role_label=role_label,
            num=num,
            label=_label,
        )
        self.env.filters.update(date=_date, datetime=_datetime)

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass(frozen=True)
class Chart:
    """A stacked bar chart of held sessions per month and track, in SVG user units."""

    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, float, str]]  # x, y, text (month names and totals)
    legend: list[tuple[float, float, str, str]]  # x, y, color, track name
    baseline: float


def trend_chart(trend: Trend, track_names: dict[str, str]) -> Chart | None:
    """The chart, or None when nothing has been held yet."""
    totals = [trend.total(m) for m in trend.months]
    if not trend.months or not any(totals):
        return None
    top = max(totals)
    width, left, plot = 720, 20, 170
    base = plot + 30  # room above the tallest bar for its total
    step = (width - 2 * left) / len(trend.months)
    bar_w = step * 0.6
    tracks = [tr for tr in track_names if tr in trend.by_track] + [
        tr for tr in trend.by_track if tr not in track_names
    ]
    colors = {tr: PALETTE[i % len(PALETTE)] for i, tr in enumerate(tracks)}
    bars: list[Bar] = []
    labels: list[tuple[float, float, str]] = []
    for i, month in enumerate(trend.months):
        x = left + i * step + (step - bar_w) / 2
        y: float = base
        for tr in tracks:
            n = trend.by_track.get(tr, {}).get(month, 0)
            if not n:
                continue
            h = plot * n / top
            y -= h
            title = f"{int(month[5:])}月 {track_names.get(tr, tr)}: {n}"
            bars.append(
                Bar(round(x, 1), round(y, 1), round(bar_w, 1), round(h, 1), colors[tr], title)
            )
        labels.append((round(x + bar_w / 2, 1), base + 16, f"{int(month[5:])}月"))
        if totals[i]:
            labels.append((round(x + bar_w / 2, 1), round(y - 4, 1), str(totals[i])))
    # One legend line per track under the months (names are long: 長期伴走支援…).
    legend: list[tuple[float, float, str, str]] = [
        (left, base + 36 + 16 * i, colors[tr], track_names.get(tr, tr))
        for i, tr in enumerate(tracks)
    ]
    return Chart(width, int(base + 30 + 16 * len(tracks)), bars, labels, legend, base)
