"""The one counting rule of every view: `/status`, `dxbot status --json`, decks and exports.

A session is, at a moment ``as_of``:

- *outside the term* when it starts before the term start or after the last day of service
  (``ProgramProfile.service_end``): it counts nowhere, whatever its status;
- *cancelled* when its status is 'cancelled' (it never counts toward a figure, and is shown as
  a number of its own);
- *held* when it is not cancelled and its end has passed (``ends_at <= as_of``);
- *scheduled* (予定) when it is not cancelled and its end is still ahead.

Every figure derives from these states: per track held, scheduled, cancelled, hours held and
on-site sessions held; per municipality and track held and scheduled (a joint session once for
each participating municipality, as the per-municipality cap counts it); per expert held,
scheduled and hours held. ``count_state`` classifies one row (lists, exports); ``count_figures``
aggregates in the database with the same rule.

The whole program's figures read the trigger-kept tallies (migration 0002), which hold every
non-cancelled session; the sessions that are *not* held in the term — those whose end is ahead
plus those outside the term, a small set read through ``ix_sessions_program_ends`` and
``ix_sessions_program_starts_status`` — are read in one statement and subtracted, so the cost
follows the number of future sessions, not the year's. ``track_figures`` (the web overview:
per track only) also reads the sessions ending after today from the tallies' per-day rows, so
its cost follows the days ahead, not the sessions booked ahead. Views of one municipality, one
expert or a period (decks) aggregate their sessions directly.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from reminders.clock import JST
from store.models import (
    Municipality,
    SessionExpert,
    SessionMunicipality,
    SessionTally,
    SupportSession,
    User,
)
from store.profiles import ProgramProfile
from store.reference import names_by_code
from store.reporting.scoping import NOT_CANCELLED, scoped_sessions
from store.rules import onsite_minimums
from store.scope import EVERYTHING, Scope

CountState = Literal["held", "scheduled", "cancelled", "outside_term"]
COUNT_STATES: tuple[CountState, ...] = ("held", "scheduled", "cancelled", "outside_term")

# A literal, so the planner can match a partial index on cancelled sessions where one exists.
CANCELLED = SupportSession.status == literal_column("'cancelled'")
ONSITE = "onsite"


# --- the rule ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountingWindow:
    """The days sessions count on: the term start to the last day of service (JST, inclusive)."""

    first: dt.date
    last: dt.date

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[first 00:00 JST, the day after last 00:00 JST) as aware datetimes."""
        return (
            dt.datetime.combine(self.first, dt.time(0), tzinfo=JST),
            dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(0), tzinfo=JST),
        )

    def contains(self, starts_at: dt.datetime) -> bool:
        start, end = self.bounds()
        return start <= starts_at < end

    def until(self, last: dt.date) -> CountingWindow:
        """The window cut at ``last`` (a deck's period end), never before its first day."""
        return CountingWindow(
            self.first, max(self.first - dt.timedelta(days=1), min(last, self.last))
        )


def counting_window(profile: ProgramProfile) -> CountingWindow:
    """Sessions count from the term start to the last day of service (the 履行期限 where the
    profile gives one, else the contract end): one rule for status, decks and exports."""
    return CountingWindow(profile.term_start, profile.service_end)


def count_state(
    status: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    as_of: dt.datetime,
    window: CountingWindow,
) -> CountState:
    """The state of one session at ``as_of`` (the rule of the module docstring)."""
    if not window.contains(starts_at):
        return "outside_term"
    if status == "cancelled":
        return "cancelled"
    return "held" if ends_at <= as_of else "scheduled"


def _in_window(window: CountingWindow) -> ColumnElement[bool]:
    start, end = window.bounds()
    return and_(SupportSession.starts_at >= start, SupportSession.starts_at < end)


# --- the figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackFigures:
    track_id: str
    held: int = 0
    scheduled: int = 0
    cancelled: int = 0
    hours_held: float = 0.0
    onsite_held: int = 0


@dataclass(frozen=True)
class MunicipalityFigures:
    """One municipality's sessions in one track (a joint session counts for each of them)."""

    track_id: str
    code: str
    name: str
    held: int = 0
    scheduled: int = 0
    hours_held: float = 0.0

    @property
    def booked(self) -> int:
        """Held and scheduled: what a per-municipality cap counts."""
        return self.held + self.scheduled


@dataclass(frozen=True)
class ExpertFigures:
    user_id: int
    name: str
    held: int = 0
    scheduled: int = 0
    hours_held: float = 0.0

    @property
    def assigned(self) -> int:
        """Held and scheduled: the workload the fairness spread compares."""
        return self.held + self.scheduled


@dataclass(frozen=True)
class Figures:
    as_of: dt.datetime
    window: CountingWindow
    tracks: dict[str, TrackFigures]
    municipalities: list[MunicipalityFigures]  # by track, most booked first
    experts: list[ExpertFigures]  # by user id
    sessions_starting: int = 0  # non-cancelled sessions starting on the days asked for (tallies)
    cases_by_status: dict[str, int] = field(default_factory=dict)

    def track(self, track_id: str) -> TrackFigures:
        return self.tracks.get(track_id, TrackFigures(track_id))

    def municipality(self, track_id: str, code: str) -> MunicipalityFigures | None:
        for m in self.municipalities:
            if m.track_id == track_id and m.code == code:
                return m
        return None


@dataclass(frozen=True)
class OnsiteRuleFigures:
    """An on-site minimum (a track's ``minimum_onsite`` or a program rule across tracks) and
    the on-site sessions held toward it."""

    tracks: tuple[str, ...]
    minimum: int
    onsite_held: int
    program_rule: bool

    @property
    def met(self) -> bool:
        return self.onsite_held >= self.minimum


def onsite_rules(profile: ProgramProfile, figures: Figures) -> list[OnsiteRuleFigures]:
    """Every on-site minimum of the profile with its held on-site sessions: program rules
    (Yamagata §3(1)⑤ covers both accompaniment themes together) first, then tracks' own."""
    return [
        OnsiteRuleFigures(
            tracks, minimum, sum(figures.track(tid).onsite_held for tid in tracks), program_rule
        )
        for tracks, minimum, program_rule in onsite_minimums(profile)
    ]


# --- counting in the database -----------------------------------------------------------------------


async def count_figures(
    s: AsyncSession,
    program_id: str,
    window: CountingWindow,
    as_of: dt.datetime,
    scope: Scope = EVERYTHING,
    *,
    starting: tuple[dt.date, dt.date] | None = None,
) -> Figures:
    """The figures of a program (from the tallies) or of a scope or shorter window (direct).

    ``starting`` (program only) also counts the non-cancelled sessions starting on those days,
    and the cases by status, from the same tallies statement."""
    if scope.everything:
        return await _tallied(s, program_id, window, as_of, starting)
    return await direct_figures(s, program_id, window, as_of, scope)


async def track_figures(
    s: AsyncSession, program_id: str, window: CountingWindow, as_of: dt.datetime
) -> Figures:
    """The whole program's figures per track, and its cases by status, with no municipality or
    expert rows: what the web overview shows. The same rule and the same tallies as
    ``count_figures``; the sessions ending after today come from the tallies' per-day rows
    ('ends') instead of being read one by one, so the cost no longer follows the sessions
    booked ahead (a hundred thousand in bench/bench_web.py's year) but the days ahead."""
    return await _tallied(s, program_id, window, as_of, None, tracks_only=True)


def _held(as_of: dt.datetime) -> ColumnElement[bool]:
    return and_(NOT_CANCELLED, SupportSession.ends_at <= as_of)


def _scheduled(as_of: dt.datetime) -> ColumnElement[bool]:
    return and_(NOT_CANCELLED, SupportSession.ends_at > as_of)


def _onsite_held(as_of: dt.datetime) -> ColumnElement[bool]:
    return and_(_held(as_of), SupportSession.method == ONSITE)


def _sum(cond: ColumnElement[bool], value: Any = 1, zero: Any = 0) -> Any:
    return func.coalesce(func.sum(case((cond, value), else_=zero)), zero)


async def direct_figures(
    s: AsyncSession,
    program_id: str,
    window: CountingWindow,
    as_of: dt.datetime,
    scope: Scope = EVERYTHING,
) -> Figures:
    """Three GROUP BY statements over the sessions of a scope in the window (tracks,
    municipalities, experts). With the whole program it is the reference the tallies match."""
    base = and_(SupportSession.program_id == program_id, _in_window(window))
    tq = (
        select(
            SupportSession.track_id,
            _sum(_held(as_of)),
            _sum(_scheduled(as_of)),
            _sum(CANCELLED),
            _sum(_held(as_of), SupportSession.hours, 0.0),
            _sum(_onsite_held(as_of)),
        )
        .where(base)
        .group_by(SupportSession.track_id)
    )
    tracks = {
        tid: TrackFigures(tid, int(h), int(p), int(c), _hours(float(hrs)), int(o))
        for tid, h, p, c, hrs, o in (await s.execute(scoped_sessions(tq, scope))).all()
    }
    mq = (
        select(
            SupportSession.track_id,
            SessionMunicipality.municipality_code,
            Municipality.name,
            _sum(_held(as_of)),
            _sum(_scheduled(as_of)),
            _sum(_held(as_of), SupportSession.hours, 0.0),
        )
        .join(SessionMunicipality, SessionMunicipality.session_id == SupportSession.id)
        .join(Municipality, Municipality.code == SessionMunicipality.municipality_code)
        .where(base, NOT_CANCELLED)
        .group_by(SupportSession.track_id, SessionMunicipality.municipality_code, Municipality.name)
    )
    if scope.municipality_code is not None:
        mq = mq.where(SessionMunicipality.municipality_code == scope.municipality_code)
    mq = scoped_sessions(mq, Scope(expert_user_id=scope.expert_user_id))
    munis = [
        MunicipalityFigures(tid, code, name, int(h), int(p), _hours(float(hrs)))
        for tid, code, name, h, p, hrs in (await s.execute(mq)).all()
    ]
    inner = (
        select(
            SessionExpert.user_id.label("user_id"),
            _sum(_held(as_of)).label("held"),
            _sum(_scheduled(as_of)).label("scheduled"),
            _sum(_held(as_of), SupportSession.hours, 0.0).label("hours"),
        )
        .join(SupportSession, SupportSession.id == SessionExpert.session_id)
        .where(base, NOT_CANCELLED)
        .group_by(SessionExpert.user_id)
    )
    if scope.expert_user_id is not None:
        inner = inner.where(SessionExpert.user_id == scope.expert_user_id)
    sub = scoped_sessions(inner, Scope(municipality_code=scope.municipality_code)).subquery()
    eq = (
        select(
            User.id,
            User.name,
            User.platform_id,
            func.coalesce(sub.c.held, 0),
            func.coalesce(sub.c.scheduled, 0),
            func.coalesce(sub.c.hours, 0.0),
        )
        .outerjoin(sub, sub.c.user_id == User.id)
        .order_by(User.id)
    )
    everyone = and_(User.role == "expert", User.active.is_(True))
    eq = eq.where(
        or_(everyone, sub.c.user_id.is_not(None))
        if scope.everything
        else sub.c.user_id.is_not(None)
    )
    experts = [
        ExpertFigures(uid, name or pid, int(h), int(p), _hours(float(hrs)))
        for uid, name, pid, h, p, hrs in (await s.execute(eq)).all()
    ]
    return Figures(as_of, window, tracks, _ordered(munis), experts)


def _ordered(munis: list[MunicipalityFigures]) -> list[MunicipalityFigures]:
    live = [m for m in munis if m.booked]
    return sorted(live, key=lambda m: (m.track_id, -m.booked, m.code))


def _hours(value: float) -> float:
    """Differences of float sums: drop the binary noise (hours come in quarter hours)."""
    return round(value, 6) + 0.0


# --- the whole program from the tallies ---------------------------------------------------------------

_Row = tuple[str, str, int, float, int]


async def _tallied(
    s: AsyncSession,
    program_id: str,
    window: CountingWindow,
    as_of: dt.datetime,
    starting: tuple[dt.date, dt.date] | None,
    *,
    tracks_only: bool = False,
) -> Figures:
    """Four statements: the tallies; the sessions not held in the window (future or outside it)
    with the cancelled ones in it; the municipalities' names; the experts. ``tracks_only``:
    the first two, per track."""
    keyed = SessionTally.dim.in_(("muni", "expert", "case"))
    key = case((keyed, SessionTally.key), else_=literal(""))
    dims = ("track", "case") if tracks_only else ("track", "muni", "expert", "case")
    wanted: list[ColumnElement[bool]] = [SessionTally.dim.in_(dims)]
    if starting is not None:
        first = max(starting[0], window.first).isoformat()
        last = min(starting[1], window.last).isoformat()
        wanted.append(
            and_(SessionTally.dim == "starts", SessionTally.key >= first, SessionTally.key <= last)
        )
    tallied = await s.execute(
        select(
            SessionTally.dim,
            SessionTally.track_id,
            key,
            func.sum(SessionTally.sessions),
            func.sum(SessionTally.hours),
            func.sum(SessionTally.onsite),
        )
        .where(SessionTally.program_id == program_id, or_(*wanted))
        .group_by(SessionTally.dim, SessionTally.track_id, key)
    )
    by_dim: dict[str, list[_Row]] = defaultdict(list)
    for dim, tid, k, n, hours, onsite in tallied.all():
        by_dim[dim].append((tid, k, int(n or 0), float(hours or 0), int(onsite or 0)))
    # (dim, track, key) -> [not held in the window, their hours, their on-site, scheduled in it]
    minus: dict[tuple[str, str, str], list[float]] = {}
    cancelled: dict[str, int] = {}
    for dim, tid, k, n, hours, onsite, sched in (
        await s.execute(
            _not_held_statement(
                program_id,
                window,
                as_of,
                lateral=s.get_bind().dialect.name == "postgresql",
                tracks_only=tracks_only,
            )
        )
    ).all():
        if dim == "cancel":
            cancelled[tid] = int(n or 0)
        else:  # a track may come twice (today's sessions, the later days' tallies)
            acc = minus.setdefault((dim, tid, k), [0, 0.0, 0, 0])
            for i, value in enumerate((n, hours, onsite, sched)):
                acc[i] += float(value or 0) if i == 1 else int(value or 0)

    def less(dim: str, tid: str, k: str) -> list[float]:
        return minus.get((dim, tid, k), [0, 0.0, 0, 0])

    tracks: dict[str, TrackFigures] = {}
    for tid, _k, n, hours, onsite in by_dim["track"]:
        out, out_h, out_o, sched = less("track", tid, "")
        if n or cancelled.get(tid):
            tracks[tid] = TrackFigures(
                tid,
                n - int(out),
                int(sched),
                cancelled.get(tid, 0),
                _hours(hours - out_h),
                onsite - int(out_o),
            )
    for tid, c in cancelled.items():
        if tid not in tracks and c:
            tracks[tid] = TrackFigures(tid, cancelled=c)
    cases_by_status: dict[str, int] = defaultdict(int)
    for _tid, status, n, _h, _o in by_dim["case"]:
        cases_by_status[status] += n
    by_status = {k: n for k, n in cases_by_status.items() if n}
    if tracks_only:
        return Figures(as_of, window, tracks, [], [], cases_by_status=by_status)
    muni_rows = []
    for tid, code, n, hours, _o in by_dim["muni"]:
        out, out_h, _oo, sched = less("muni", tid, code)
        muni_rows.append((tid, code, n - int(out), int(sched), _hours(hours - out_h)))
    names = await names_by_code(s, {code for _t, code, h, p, _h in muni_rows if h or p})
    munis = [
        MunicipalityFigures(tid, code, names.get(code, code), h, p, hrs)
        for tid, code, h, p, hrs in muni_rows
    ]
    per_expert: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for tid, uid, n, hours, _o in by_dim["expert"]:
        out, out_h, _oo, sched = less("expert", tid, uid)
        acc = per_expert[uid]
        acc[0] += n - int(out)
        acc[1] += int(sched)
        acc[2] += hours - out_h
    experts = await _roster(s, per_expert)
    return Figures(
        as_of,
        window,
        tracks,
        _ordered(munis),
        experts,
        sessions_starting=sum(n for _t, _k, n, _h, _o in by_dim["starts"]),
        cases_by_status=by_status,
    )


def _not_held_statement(
    program_id: str,
    window: CountingWindow,
    as_of: dt.datetime,
    *,
    lateral: bool = False,
    tracks_only: bool = False,
) -> Select[Any]:
    """Per track, municipality and expert: the non-cancelled sessions that are not held in the
    window (their end is ahead, or they are outside it), with their hours, on-site count and
    how many of them are scheduled in the window; and the cancelled sessions of the window.

    The set is read as index ranges (ends after ``as_of``; starts before the window or after
    it), so its cost follows the number of future sessions; the cancelled ones come from the
    partial index ix_sessions_program_cancelled.

    ``tracks_only``: per track alone, and only the sessions ending later today are read; those
    ending on a later day come from the tallies' per-day rows ('ends', keyed by the JST day)."""
    start, end = window.bounds()
    mine = and_(SupportSession.program_id == program_id, NOT_CANCELLED)
    onsite = case((SupportSession.method == ONSITE, 1), else_=0)
    cols = (SupportSession.id, SupportSession.track_id, SupportSession.hours, onsite)
    ended = SupportSession.ends_at <= as_of
    ahead = SupportSession.ends_at > as_of
    tomorrow = as_of.astimezone(JST).date() + dt.timedelta(days=1)
    if tracks_only:
        ahead = and_(ahead, SupportSession.ends_at < dt.datetime.combine(tomorrow, dt.time(0), JST))
    parts = [
        # Every session whose end is ahead, read from ix_sessions_program_ends alone: not held,
        # and scheduled if it is in the window (the next part takes the others back out).
        select(*cols, literal(1).label("n"), literal(1).label("sched")).where(mine, ahead),
        # Sessions outside the window (ix_sessions_program_starts_status, two ranges): an
        # ended one is not held in the window; a future one is not scheduled in it.
        select(*cols, case((ended, 1), else_=0), case((ended, 0), else_=-1)).where(
            mine, or_(SupportSession.starts_at < start, SupportSession.starts_at >= end)
        ),
    ]
    n = union_all(*parts).cte("not_held")
    ctrack, chours, conline, cn, csched = (n.c[i] for i in range(1, 6))
    aggs = (
        func.sum(cn),
        func.sum(chours * cn),
        func.sum(conline * cn),
        func.sum(csched),
    )
    per_track = select(literal("track"), ctrack, literal(""), *aggs).group_by(ctrack)
    # Per track, the days after today from the tallies; or per municipality and expert.
    rest = [_later_days(program_id, tomorrow)] if tracks_only else _per_child(n, aggs, lateral)
    in_window = and_(SupportSession.starts_at >= start, SupportSession.starts_at < end)
    cancelled = (
        # Only program and status in the WHERE, so the planner reads the partial index
        # ix_sessions_program_cancelled alone (its starts_at column answers the window).
        select(
            literal("cancel"),
            SupportSession.track_id,
            literal(""),
            func.sum(case((in_window, 1), else_=0)),
            literal(0.0),
            literal(0),
            literal(0),
        )
        .where(SupportSession.program_id == program_id, CANCELLED)
        .group_by(SupportSession.track_id)
    )
    return union_all(per_track, *rest, cancelled)  # type: ignore[return-value]  # a CompoundSelect executes like a Select


def _later_days(program_id: str, tomorrow: dt.date) -> Select[*tuple[Any, ...]]:
    """Per track, the non-cancelled sessions ending from ``tomorrow`` on (JST), from the
    tallies' per-day rows ('ends'): not held, and scheduled (``_not_held_statement``'s shape)."""
    later = func.sum(SessionTally.sessions)
    tallied = (
        literal("track"),
        SessionTally.track_id,
        literal(""),
        later,
        func.sum(SessionTally.hours),
        func.sum(SessionTally.onsite),
        later,
    )
    return (
        select(*tallied)
        .where(
            SessionTally.program_id == program_id,
            SessionTally.dim == "ends",
            SessionTally.key >= tomorrow.isoformat(),
        )
        .group_by(SessionTally.track_id)
    )


def _per_child(n: CTE, aggs: tuple[Any, ...], lateral: bool) -> list[Select[*tuple[Any, ...]]]:
    """The not-held set ``n`` aggregated per track and municipality, and per track and expert."""
    cid, ctrack = n.c[0], n.c[1]
    out = []
    for dim, table, column in (
        ("muni", SessionMunicipality, SessionMunicipality.municipality_code),
        ("expert", SessionExpert, cast(SessionExpert.user_id, String(64))),
    ):
        if lateral:
            # PostgreSQL would hash the whole child table (every session's rows) for this
            # join; a LATERAL subquery makes it probe the primary key once per session.
            # (OFFSET 0 keeps the planner from flattening it back into that join.)
            child = (
                select(column.label("k"))
                .where(table.session_id == cid)
                .offset(0)
                .lateral(f"{dim}_of")
            )
            q = select(literal(dim), ctrack, child.c.k, *aggs).select_from(n).join(child, true())
            out.append(q.group_by(ctrack, child.c.k))
        else:  # SQLite probes the child's primary key per row anyway
            q = select(literal(dim), ctrack, column, *aggs).join(table, table.session_id == cid)
            out.append(q.group_by(ctrack, column))
    return out


async def _roster(s: AsyncSession, counts: dict[str, list[float]]) -> list[ExpertFigures]:
    """Every active expert with their figures (zero included) and anyone else who has some."""
    ids = [int(k) for k, (h, p, _hrs) in counts.items() if h or p]
    people = await s.execute(
        select(User.id, User.name, User.platform_id)
        .where(or_(and_(User.role == "expert", User.active.is_(True)), User.id.in_(ids)))
        .order_by(User.id)
    )
    out = []
    for uid, name, pid in people.all():
        h, p, hrs = counts.get(str(uid), [0, 0, 0.0])
        out.append(ExpertFigures(uid, name or pid, int(h), int(p), _hours(float(hrs))))
    return out
