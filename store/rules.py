"""What a program's rules allow: the one place that decides whether a session may be booked,
an expert proposed, and which of the profile's minimums are still short.

Pure: it takes the profile and the few facts it needs (an expert's on-site ability and consent,
sessions per municipality so far, on-site sessions held per track) as arguments, so the rules
are tested without a database and shared by every path — matching (handlers/matching.py),
`/dx schedule` (handlers/scheduling.py) and `dxbot sessions add` (the same handler code), and
the status view for shortfalls. It lives beside the profile schema because it is that schema's
meaning; it talks no SQL.

A refusal is data (a catalogue key and its parameters), rendered by the caller in polite
Japanese for the chat or English for the command line (bot/core/catalog_rules.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reminders.calendar import format_jp, format_jp_datetime
from reminders.clock import JST
from store.profiles import ProgramProfile, Track

# Answers written, not given at a meeting: no time-of-day window applies to them.
WRITTEN_METHODS = frozenset({"email", "chat"})


@dataclass(frozen=True)
class Refusal:
    """Why something is not allowed: ``key`` names a catalogue message, ``params`` fill it."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExpertFacts:
    """What the rules need to know of an expert (from the roster)."""

    name: str
    onsite: bool
    consent_listed: bool


@dataclass(frozen=True)
class SessionPlan:
    """A session about to be booked, with the facts the rules check it against.

    ``sessions_so_far`` counts the track's sessions that are not cancelled, per municipality
    code (a joint session counts once for each of its municipalities).
    """

    track: Track
    starts_at: dt.datetime
    hours: float
    method: str
    municipality_codes: Sequence[str]
    municipality_names: Mapping[str, str]
    experts: Sequence[ExpertFacts] = ()
    sessions_so_far: Mapping[str, int] = field(default_factory=dict)


# --- the term ----------------------------------------------------------------------------------


def term_refusal(profile: ProgramProfile, day: dt.date) -> Refusal | None:
    """A session must fall within [term_start, the last day of service]."""
    first, last = profile.term_start, profile.service_end
    if first <= day <= last:
        return None
    params: dict[str, object] = {
        "day": format_jp(day),
        "first": format_jp(first),
        "last": format_jp(last),
        "day_iso": day.isoformat(),
        "first_iso": first.isoformat(),
        "last_iso": last.isoformat(),
    }
    if profile.last_service_day is not None and last < day <= profile.term_end:
        return Refusal("after_last_service_day", params)
    return Refusal("outside_term", params)


def program_ended(profile: ProgramProfile, now: dt.datetime) -> bool:
    """Whether the program's last day of service (``last_service_day``, else ``term_end``) is
    behind ``now`` (JST): the program is then read-only for new work."""
    return now.astimezone(JST).date() > profile.service_end


def new_work_refusal(profile: ProgramProfile, now: dt.datetime, work: str) -> Refusal | None:
    """A program whose last day of service has passed takes no new work: ``work`` is ``case``
    (intake) or ``session`` (matching, scheduling, `dxbot sessions add`). What the year owes
    still goes on — late reports, surveys, deliverables, status, exports and decks — so only
    these two paths call this."""
    if not program_ended(profile, now):
        return None
    last = profile.service_end
    return Refusal(
        f"program_ended_{work}",
        {
            "program": profile.name,
            "program_id": profile.id,
            # The Japanese fiscal year by era (令和 began in 2019, its first year 2019).
            "fiscal": f"令和{profile.fiscal_year - 2018}年度",
            "last": f"{last.year}年{last.month}月{last.day}日",
            "last_iso": last.isoformat(),
        },
    )


def report_due_flag(profile: ProgramProfile, due: dt.date) -> Refusal | None:
    """A report due after the last day of service (a warning to show, never a refusal): the
    program's 履行期限 passes before the report is owed, so it must be asked for earlier."""
    last = profile.service_end
    if due <= last:
        return None
    return Refusal(
        "report_due_after_service",
        {
            "due": format_jp(due),
            "last": format_jp(last),
            "due_iso": due.isoformat(),
            "last_iso": last.isoformat(),
        },
    )


# --- one session -------------------------------------------------------------------------------


def hours_refusal(profile: ProgramProfile, track: Track, hours: float) -> Refusal | None:
    ceiling = profile.max_hours(track)
    if hours <= ceiling:
        return None
    return Refusal(
        "hours_over_max", {"hours": f"{hours:g}", "max": f"{ceiling:g}", "track": track.name}
    )


def window_refusal(
    profile: ProgramProfile, starts_at: dt.datetime, hours: float, method: str = "online"
) -> Refusal | None:
    """A session starts at or after the window's start and ends by its end (JST). Ending by
    the end, not merely starting before it: a 19:00 start for 3 hours runs to 22:00, which is
    no more a working session than a 22:00 start. An answer written by e-mail or chat is not a
    meeting at a time of day, so the window does not apply to it (a phone call is a meeting)."""
    if method in WRITTEN_METHODS:
        return None
    window = profile.session_window
    start = starts_at.astimezone(JST)
    end = start + dt.timedelta(hours=hours)
    opens = dt.datetime.combine(start.date(), window.start, tzinfo=JST)
    closes = dt.datetime.combine(start.date(), window.end, tzinfo=JST)
    if opens <= start and end <= closes:
        return None
    return Refusal(
        "start_outside_window",
        {
            "start": format_jp_datetime(start),
            "hours": f"{hours:g}",
            "open": window.start.strftime("%H:%M"),
            "close": window.end.strftime("%H:%M"),
        },
    )


def expert_refusal(profile: ProgramProfile, expert: ExpertFacts, method: str) -> Refusal | None:
    """An expert may be proposed or booked only if listed with consent (Saitama §6(3)ウ) and,
    for an on-site session, able to visit."""
    if not expert.consent_listed:
        return Refusal("expert_not_consented", {"name": expert.name})
    if method == "onsite" and not expert.onsite:
        return Refusal("expert_cannot_visit", {"name": expert.name})
    return None


def municipality_refusal(
    track: Track, codes: Sequence[str], names: Mapping[str, str]
) -> Refusal | None:
    """Municipalities outside the track's include list, or on its exclude list."""
    outside = [
        c
        for c in codes
        if (track.include_municipalities and c not in track.include_municipalities)
        or c in track.exclude_municipalities
    ]
    if not outside:
        return None
    return Refusal(
        "municipality_not_in_track",
        {"names": "、".join(names.get(c, c) for c in outside), "track": track.name},
    )


def cap_refusal(
    track: Track, so_far: Mapping[str, int], names: Mapping[str, str]
) -> Refusal | None:
    """A municipality already at the track's per-municipality cap (one more would pass it)."""
    cap = track.per_municipality_cap
    if cap is None:
        return None
    full = [c for c, n in so_far.items() if n >= cap]
    if not full:
        return None
    return Refusal(
        "municipality_cap",
        {"names": "、".join(names.get(c, c) for c in full), "cap": cap, "track": track.name},
    )


def session_refusal(profile: ProgramProfile, plan: SessionPlan) -> Refusal | None:
    """The first rule a planned session breaks, or None. The order puts what staff most likely
    mistyped first (hours, date, time), then who, then where."""
    first = (
        hours_refusal(profile, plan.track, plan.hours)
        or term_refusal(profile, plan.starts_at.astimezone(JST).date())
        or window_refusal(profile, plan.starts_at, plan.hours, plan.method)
    )
    if first is not None:
        return first
    for expert in plan.experts:
        refusal = expert_refusal(profile, expert, plan.method)
        if refusal is not None:
            return refusal
    return municipality_refusal(
        plan.track, plan.municipality_codes, plan.municipality_names
    ) or cap_refusal(plan.track, plan.sessions_so_far, plan.municipality_names)


# --- minimums not yet met ------------------------------------------------------------------------


@dataclass(frozen=True)
class Shortfall:
    """A minimum the profile sets that the held sessions do not reach yet."""

    key: str
    track_ids: tuple[str, ...]
    minimum: int
    held: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        return self.minimum - self.held


def onsite_minimums(profile: ProgramProfile) -> list[tuple[tuple[str, ...], int, bool]]:
    """Every on-site minimum of the profile as (track ids, minimum, is a program rule): program
    rules across tracks first (Yamagata §3(1)⑤ covers both accompaniment themes), then each
    track's own ``minimum_onsite``. The one reading of these rules, for status and decks too."""
    out: list[tuple[tuple[str, ...], int, bool]] = [
        (tuple(rule.tracks), rule.minimum, True)
        for rule in profile.program_rules
        if rule.kind == "onsite_minimum"
    ]
    out += [((t.id,), t.minimum_onsite, False) for t in profile.tracks if t.minimum_onsite]
    return out


def shortfalls(profile: ProgramProfile, onsite_held: Mapping[str, int]) -> list[Shortfall]:
    """Every on-site minimum not yet met, with the on-site sessions held so far.

    ``onsite_held`` is on-site sessions held (not cancelled, ended) per track id.
    """
    out: list[Shortfall] = []
    minimums = [(tracks, minimum) for tracks, minimum, _ in onsite_minimums(profile)]
    for track_ids, minimum in minimums:
        held = sum(onsite_held.get(tid, 0) for tid in track_ids)
        if held >= minimum:
            continue
        names = "・".join(profile.track(tid).name for tid in track_ids)
        out.append(
            Shortfall(
                "shortfall_onsite",
                track_ids,
                minimum,
                held,
                {"tracks": names, "held": held, "minimum": minimum, "remaining": minimum - held},
            )
        )
    return out
