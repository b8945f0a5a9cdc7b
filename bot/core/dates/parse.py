"""Resolution of date and time mentions against an injected ``today`` (see ``bot.core.dates``
for the rules chosen for ambiguous phrasings)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from bot.core.dates.patterns import (
    _CONNECT_RE,
    _DATE_RE,
    _DAY_OFFSET,
    _ERA_BASE,
    _GAP_RE,
    _HOUR_RANGE_RE,
    _KINDS,
    _LEAD_DASH_RE,
    _MAX_GAP,
    _MONTH_OFFSET,
    _NUMERIC,
    _PART_RE,
    _TAIL_RE,
    _TIME_RE,
    _TSEP_RE,
    _UNTIL_RE,
    _WD_CHAR_RE,
    _WEEK_OFFSET,
    _WEEKDAY_AFTER_RE,
    _WEEKDAYS,
    _YEAR_OFFSET,
    normalize,
)

Part = Literal["am", "pm", "evening", "allday"]


@dataclass(frozen=True)
class DateMention:
    day: date
    part: Part | None = None
    start: time | None = None
    end: time | None = None
    text: str = ""
    weekday_mismatch: bool = False
    # (start, end) offsets of ``text`` in ``normalize(input)``; not part of equality.
    span: tuple[int, int] = field(default=(0, 0), compare=False)


# --------------------------------------------------------------------------- date helpers


def _mk(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _add_months(y: int, m: int, k: int) -> tuple[int, int]:
    n = y * 12 + (m - 1) + k
    return n // 12, n % 12 + 1


def _month_end(y: int, m: int) -> date | None:
    ny, nm = _add_months(y, m, 1)
    first = _mk(ny, nm, 1)
    return None if first is None else first - timedelta(days=1)


def _year_for(m: int, d: int, today: date) -> int:
    return today.year if (m, d) >= (today.month, today.day) else today.year + 1


def _nth_weekday(y: int, m: int, n: int, wd: int) -> date | None:
    first = _mk(y, m, 1)
    if first is None:
        return None
    d = 1 + (wd - first.weekday()) % 7 + 7 * (n - 1)
    return _mk(y, m, d)


def _after(base: date, wd: int) -> date:
    """The first ``wd`` strictly after ``base``."""
    return base + timedelta(days=(wd - base.weekday()) % 7 or 7)


# --------------------------------------------------------------------------- resolution


@dataclass
class _Raw:
    day: date
    start_pos: int
    end_pos: int = 0
    part: Part | None = None
    start: time | None = None
    end: time | None = None
    mismatch: bool = False
    connected: bool = False  # continues the previous mention (list / range)
    week_monday: date | None = None

    @property
    def has_time(self) -> bool:
        return self.part is not None or self.start is not None or self.end is not None


def _resolve(
    kind: str, m: re.Match[str], today: date, ctx: _Raw | None
) -> tuple[list[date], date | None]:
    """Days named by one date match (empty when impossible), and the Monday of the week
    it names explicitly (来週…), for continuing "来週火曜か水曜"."""
    g = m.group
    if kind == "era":
        era = g("era_n") or g("era_a").upper()
        n = 1 if g("era_y") == "元" else int(g("era_y"))
        if n == 0:
            return [], None
        mo, d = int(g("era_m1") or g("era_m2")), int(g("era_d1") or g("era_d2"))
        return _opt(_mk(_ERA_BASE[era] + n, mo, d)), None
    if kind == "ymd":
        mo, d = int(g("ymd_m1") or g("ymd_m2")), int(g("ymd_d1") or g("ymd_d2"))
        return _opt(_mk(int(g("ymd_y")), mo, d)), None
    if kind == "yrel":
        y = today.year + _YEAR_OFFSET[g("yrel_w")]
        return _opt(_mk(y, int(g("yrel_m")), int(g("yrel_d")))), None
    if kind in ("md", "mds"):
        mo, d = int(g(kind + "_m")), int(g(kind + "_d"))
        if not (1 <= mo <= 12 and 1 <= d <= 31):
            return [], None
        y = _year_for(mo, d, today)
        if ctx is not None and (y, mo, d) < (ctx.day.year, ctx.day.month, ctx.day.day):
            y += 1  # "12月28日〜1月5日" continues into the next year
        return _opt(_mk(y, mo, d)), None
    if kind == "mdl":
        mo = int(g("mdl_m"))
        nums = [int(x) for x in re.findall(r"\d{1,2}", g("mdl_ds"))]
        if not (1 <= mo <= 12 and 1 <= nums[0] <= 31):
            return [], None
        y = _year_for(mo, nums[0], today)
        days: list[date] = []
        prev_d = 0
        for d in nums:
            if d < prev_d:
                y, mo = _add_months(y, mo, 1)
            prev_d = d
            day = _mk(y, mo, d)
            if day is not None:
                days.append(day)
        return days, None
    if kind == "mrel":
        y, mo = _add_months(today.year, today.month, _MONTH_OFFSET[g("mrel_w")])
        return _opt(_mk(y, mo, int(g("mrel_d")))), None
    if kind == "nth":
        n = int(g("nth_n"))
        wd = _WEEKDAYS.index(g("nth_wd")) if g("nth_wd") else 6
        if g("nth_w"):
            y, mo = _add_months(today.year, today.month, _MONTH_OFFSET[g("nth_w")])
            return _opt(_nth_weekday(y, mo, n, wd)), None
        mo = int(g("nth_m"))
        if not 1 <= mo <= 12:
            return [], None
        day = _nth_weekday(today.year, mo, n, wd)
        if day is None or day < today:
            day = _nth_weekday(today.year + 1, mo, n, wd)
        return _opt(day), None
    if kind == "mend":
        if g("mend_w"):
            y, mo = _add_months(today.year, today.month, _MONTH_OFFSET[g("mend_w")])
            return _opt(_month_end(y, mo)), None
        if g("mend_m"):
            mo = int(g("mend_m"))
            if not 1 <= mo <= 12:
                return [], None
            day = _month_end(today.year, mo)
            if day is not None and day < today:
                day = _month_end(today.year + 1, mo)
            return _opt(day), None
        return _opt(_month_end(today.year, today.month)), None
    if kind == "wk":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=_WEEK_OFFSET[g("wk_w")])
        wds = [_WEEKDAYS.index(c) for c in g("wk_wds") if c in _WEEKDAYS]
        return [monday + timedelta(days=wd) for wd in wds], monday
    if kind == "nx":
        return [_after(today, _WEEKDAYS.index(g("nx_wd")))], None
    if kind == "wka":
        return [_after(today, 0)], None
    if kind == "rel":
        return [today + timedelta(days=_DAY_OFFSET[g("rel")])], None
    if kind == "dafter":
        n = int(g("dafter_n"))
        return ([today + timedelta(days=n)] if n <= 366 else []), None
    if kind == "bd":
        d = int(g("bd_d"))
        if ctx is not None:
            y, mo = ctx.day.year, ctx.day.month
            if d < ctx.day.day:
                y, mo = _add_months(y, mo, 1)
        else:
            y, mo = today.year, today.month
            if d < today.day:
                y, mo = _add_months(y, mo, 1)
        return _opt(_mk(y, mo, d)), None
    if kind == "bw":
        wd = _WEEKDAYS.index(g("bw_wd"))
        if ctx is not None and ctx.week_monday is not None:
            return [ctx.week_monday + timedelta(days=wd)], ctx.week_monday
        return [_after(ctx.day if ctx is not None else today, wd)], None
    raise AssertionError(kind)  # pragma: no cover


def _opt(day: date | None) -> list[date]:
    return [] if day is None else [day]


# --------------------------------------------------------------------------- times


def _marker(word: str | None) -> Part | None:
    if not word:
        return None
    if word in ("午前", "朝") or word[0] in "Aa":
        return "am"
    if word in ("夕方", "夜"):
        return "evening"
    return "pm"  # 午後, PM


def _to_time(h: int, mi: int) -> time | None:
    return time(h, mi) if 0 <= h <= 23 and 0 <= mi <= 59 else None


def _time_of(
    m: re.Match[str], default: Part | None, after: time | None
) -> tuple[time | None, Part | None]:
    """The time one _TIME_RE match names, and its explicit marker (午後 → "pm")."""
    marker = _marker(m["pre"] or m["suf"])
    if m["noon"]:
        return time(12, 0), marker
    h = int(m["h1"] or m["h2"] or m["h3"])
    mi = int(m["m1"] or m["m2"] or (30 if m["half"] else 0))
    return _hour(h, mi, marker or default, explicit=marker is not None, after=after), marker


def _hour(h: int, mi: int, marker: Part | None, explicit: bool, after: time | None) -> time | None:
    if marker in ("pm", "evening"):
        return _to_time(h + 12 if h < 12 else h, mi)
    if marker == "am":
        return _to_time(0 if h == 12 else h, mi)
    if after is not None and not explicit and h < 12:
        # unmarked end of a range: the first reading that is later than the start
        for cand in (h, h + 12):
            t = _to_time(cand, mi)
            if t is not None and t > after:
                return t
        return _to_time(h, mi)
    if 1 <= h <= 6:
        return _to_time(h + 12, mi)  # business hours: 3時 is 15:00
    return _to_time(h, mi)


def _parse_time_range(
    s: str, p: int, default: Part | None
) -> tuple[time | None, time | None, Part | None, int] | None:
    """(start, end, marker of the start, end position) of a time expression at ``p``."""
    m1 = _TIME_RE.match(s, p)
    if m1:
        t1, mk1 = _time_of(m1, default, None)
        sep = _TSEP_RE.match(s, m1.end())
        if sep:
            m2 = _TIME_RE.match(s, sep.end())
            if m2:
                t2, _ = _time_of(m2, mk1 or default, t1)
                q = m2.end()
                until = _UNTIL_RE.match(s, q)
                return t1, t2, mk1, until.end() if until else q
            return t1, None, mk1, m1.end()  # "14時から" / "14時〜"
        until = _UNTIL_RE.match(s, m1.end())
        if until:
            return None, t1, mk1, until.end()
        return t1, None, mk1, m1.end()
    hr = _HOUR_RANGE_RE.match(s, p)  # "14〜16時", "午後1〜3時"
    if hr:
        m2 = _TIME_RE.match(s, hr.end())
        if m2:
            mk1 = _marker(hr["pre"]) or _marker(m2["pre"] or m2["suf"])
            t1 = _hour(int(hr["h"]), 0, mk1 or default, explicit=mk1 is not None, after=None)
            t2, _ = _time_of(m2, mk1 or default, t1)
            until = _UNTIL_RE.match(s, m2.end())
            return t1, t2, _marker(hr["pre"]), until.end() if until else m2.end()
    lead = _LEAD_DASH_RE.match(s, p)  # "〜16時"
    if lead:
        m2 = _TIME_RE.match(s, lead.end())
        if m2:
            t2, mk2 = _time_of(m2, default, None)
            return None, t2, mk2, m2.end()
    return None


_PARTS: tuple[Part, ...] = ("am", "pm", "evening", "allday")


def _part_of(m: re.Match[str]) -> Part:
    for name in _PARTS:
        if m[name]:
            return name
    raise AssertionError(m[0])  # pragma: no cover


def _parse_when(s: str, p: int) -> tuple[Part | None, time | None, time | None, int]:
    """Part of day and/or time range written right after a date (after の / は / 、 …)."""
    gap = _GAP_RE.match(s, p)
    assert gap is not None
    tr = _parse_time_range(s, gap.end(), None)
    if tr:
        start, end, mk, q = tr
        return mk, start, end, q
    pm = _PART_RE.match(s, gap.end())
    if not pm:
        return None, None, None, p
    part = _part_of(pm)
    q = pm.end()
    gap2 = _GAP_RE.match(s, q)
    assert gap2 is not None
    tr = _parse_time_range(s, gap2.end(), part if part != "allday" else None)
    if tr:
        start, end, _, q = tr
        return part, start, end, q
    return part, None, None, q


# --------------------------------------------------------------------------- public API


def _connected(s: str, a: int, b: int) -> bool:
    return b - a <= _MAX_GAP and _CONNECT_RE.fullmatch(s, a, b) is not None


_COUNT_SEP = frozenset("、,・~〜-−‐–—ー")


def _is_count(s: str, m: re.Match[str], searched_from: int) -> bool:
    """Counts, not days: "1日中" (all day), "2、3日" / "1〜3日" (a few days) - unless the
    number before the separator belonged to the previous mention ("12:00、4日")."""
    if m["bd_d"] == "1" and s.startswith("中", m.end()):
        return True
    i = m.start()
    return i - 2 >= searched_from and s[i - 1] in _COUNT_SEP and s[i - 2].isdigit()


def _weekdays_in(m: re.Match[str]) -> list[int]:
    if m["wd"]:
        return [_WEEKDAYS.index(m["wd"])]
    return [_WEEKDAYS.index(c) for c in _WD_CHAR_RE.findall(m["wds"])]


def parse_dates(text: str, today: date) -> list[DateMention]:
    """Every date mentioned in ``text``, in order of appearance, resolved against ``today``.

    See the module docstring for the rules applied to ambiguous phrasings."""
    if isinstance(today, datetime):
        today = today.date()
    s = normalize(text)
    raws: list[_Raw] = []
    pos = 0
    while True:
        m = _DATE_RE.search(s, pos)
        if m is None:
            break
        kind = next(k for k in _KINDS if m.group(k) is not None)
        prev = raws[-1] if raws else None
        connected = prev is not None and _connected(s, prev.end_pos, m.start())
        if kind == "bd" and _is_count(s, m, pos):
            pos = m.end()
            continue
        days, monday = _resolve(kind, m, today, prev if connected else None)
        q = m.end()

        wm = _WEEKDAY_AFTER_RE.match(s, q)
        wds = _weekdays_in(wm) if wm else []
        if wm:
            q = wm.end()
        tail_day: date | None = None
        tail_wds: list[int] = []
        if kind in _NUMERIC and days:
            tm = _TAIL_RE.match(s, q)
            if tm:
                base, d = days[-1], int(tm["d"])
                y, mo = base.year, base.month
                if d < base.day:
                    y, mo = _add_months(y, mo, 1)
                tail_day = _mk(y, mo, d)
                q = tm.end()
                twm = _WEEKDAY_AFTER_RE.match(s, q)
                if twm:
                    tail_wds = _weekdays_in(twm)
                    q = twm.end()
        part, start, end, q = _parse_when(s, q)
        pos = max(q, m.end())
        if not days:
            continue

        mism = [False] * len(days)
        if len(wds) == len(days):
            mism = [d.weekday() != w for d, w in zip(days, wds, strict=True)]
        elif wds:
            mism[-1] = days[-1].weekday() != wds[-1]
        all_days = list(zip(days, mism, strict=True))
        if tail_day is not None:
            all_days.append((tail_day, bool(tail_wds) and tail_day.weekday() != tail_wds[-1]))
        for i, (day, mismatch) in enumerate(all_days):
            raws.append(
                _Raw(
                    day=day,
                    start_pos=m.start(),
                    end_pos=pos,
                    part=part,
                    start=start,
                    end=end,
                    mismatch=mismatch,
                    connected=connected if i == 0 else True,
                    week_monday=monday,
                )
            )

    _backfill(raws)
    return [
        DateMention(
            day=r.day,
            part=r.part,
            start=r.start,
            end=r.end,
            text=s[r.start_pos : r.end_pos].rstrip(),
            weekday_mismatch=r.mismatch,
            span=(r.start_pos, r.start_pos + len(s[r.start_pos : r.end_pos].rstrip())),
        )
        for r in raws
    ]


def _backfill(raws: list[_Raw]) -> None:
    """In a chain of connected mentions where only the last names a time or part of day,
    that time applies to the whole chain ("3日か4日の午後")."""
    i = 0
    while i < len(raws):
        j = i
        while j + 1 < len(raws) and raws[j + 1].connected:
            j += 1
        last = raws[j]
        if j > i and last.has_time and not any(r.has_time for r in raws[i:j]):
            for r in raws[i:j]:
                r.part, r.start, r.end = last.part, last.start, last.end
        i = j + 1


def parse_one_date(text: str, today: date) -> date | None:
    """The single date ``text`` names (a CLI argument, a one-field answer), or None when it
    names none, several different days, or a day whose bracketed weekday contradicts it."""
    mentions = parse_dates(text, today)
    days = {m.day for m in mentions}
    if len(days) != 1 or any(m.weekday_mismatch for m in mentions):
        return None
    return days.pop()
