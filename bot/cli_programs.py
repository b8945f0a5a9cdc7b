"""`dxbot programs list` and `dxbot programs check FILE` (the interface contract in
ARCHITECTURE.md): what an administrator runs before loading next year's profile.

`check` validates a file with the loader's own words (store.profiles: the file, the field, the
problem) and, when it is sound, says back in one paragraph what the bot will enforce, so a
misread target or deadline is caught by reading, before any case is opened under it.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from bot.core.config import Settings
from store import reference
from store.profiles import (
    ProfileError,
    ProgramProfile,
    Track,
    available_programs,
    load_profile,
    load_profile_file,
)

_CLOSED_RULE = {
    "as_is": "kept even when closed",
    "next_open_day": "moved to the next 開庁日 when closed",
    "previous_open_day": "moved to the previous 開庁日 when closed",
}


async def cmd_programs_list(args: argparse.Namespace, settings: Settings) -> int:
    """One line per loadable program; a broken folder profile or a clash stops the list, since
    the bot would refuse to start on it too."""
    sources = available_programs(settings.profiles_dir)
    print("id\tname\tprefecture\tterm\twhere\tfile")
    for src in sources:
        p = load_profile(src.id, settings.profiles_dir)
        term = f"{p.term_start.isoformat()}..{p.term_end.isoformat()}"
        print(f"{p.id}\t{p.name}\t{p.prefecture}\t{term}\t{src.where}\t{src.path}")
    return 0


async def cmd_programs_check(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 with a summary, or 1 with the loader's sentence (the file, the field, the problem).
    A file whose id another profile already has is refused too, naming both files."""
    path = Path(args.file)
    try:
        profile = load_profile_file(path)
        _check_municipalities(profile, str(path))
        for src in available_programs(settings.profiles_dir):
            if src.id == profile.id and Path(src.path).resolve() != path.resolve():
                raise ProfileError(
                    f"Profile {path} has id '{profile.id}', which the {src.where} profile "
                    f"{src.path} already has; each program needs its own id "
                    "(change 'id' and 'fiscal_year')."
                )
    except ProfileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(textwrap.fill(summary(profile, str(path)), width=100))
    return 0


def _check_municipalities(p: ProgramProfile, source: str) -> None:
    """What the loader cannot see without the municipality data: the prefecture's name matches
    its code, and every municipality a track names is one of that prefecture's."""
    shipped = reference.municipalities(p.prefecture_code)
    if not shipped:
        raise ProfileError(
            f"Profile {source} is invalid: field 'prefecture_code': no prefecture has code "
            f"'{p.prefecture_code}'"
        )
    if shipped[0].prefecture_name != p.prefecture:
        raise ProfileError(
            f"Profile {source} is invalid: field 'prefecture': code {p.prefecture_code} is "
            f"{shipped[0].prefecture_name}, not {p.prefecture}"
        )
    codes = {m.code for m in shipped}
    for i, t in enumerate(p.tracks):
        for name in ("include_municipalities", "exclude_municipalities"):
            unknown = [c for c in getattr(t, name) if c not in codes]
            if unknown:
                raise ProfileError(
                    f"Profile {source} is invalid: field 'tracks.{i}.{name}': {unknown} are not "
                    f"municipalities of {p.prefecture}"
                )


def _track(p: ProgramProfile, t: Track) -> str:
    counts = []
    if t.target is not None:
        counts.append(f"target {t.target}")
    if t.minimum is not None:
        counts.append(f"minimum {t.minimum}")
    if t.per_municipality_cap is not None:
        counts.append(f"at most {t.per_municipality_cap} per municipality")
    if t.minimum_onsite is not None:
        counts.append(f"at least {t.minimum_onsite} on site")
    counts.append(f"{t.default_hours:g}h by default, at most {p.max_hours(t):g}h")
    counts.append(f"{t.default_method} by default of {'/'.join(t.methods)}")
    route = f"the {t.report.submitted_to}" + (
        " after staff review" if t.report.staff_review else ""
    )
    per = ", one per municipality" if t.report.per_municipality else ""
    counts.append(f"report {t.report.title} within {t.report_open_days}開庁日 to {route}{per}")
    if t.include_municipalities:
        counts.append(f"only {', '.join(t.include_municipalities)}")
    if t.exclude_municipalities:
        counts.append(f"not {', '.join(t.exclude_municipalities)}")
    return f"{t.id} {t.name} ({t.kind}; {'; '.join(counts)})"


def summary(p: ProgramProfile, source: str) -> str:
    """The profile in one English paragraph: what a person checks against the specification."""
    d, r = p.deadlines, p.reminders
    service = f" (last day of service {p.last_service_day})" if p.last_service_day else ""
    parts = [
        f"{source} is a valid profile: {p.id} {p.name}, {p.prefecture} "
        f"(code {p.prefecture_code}), term {p.term_start} to {p.term_end}{service}, "
        f"chat on {p.chat_platform}; {len(reference.municipalities(p.prefecture_code))} "
        "municipalities.",
        "Tracks: " + "; ".join(_track(p, t) for t in p.tracks) + ".",
    ]
    for rule in p.program_rules:
        parts.append(
            f"Program rule: at least {rule.minimum} on-site sessions across "
            f"{', '.join(rule.tracks)}."
        )
    parts.append(
        f"Sessions between {p.session_window.start:%H:%M} and {p.session_window.end:%H:%M}; "
        f"matches approved by the {p.match_approver}."
    )
    if d.monthly_report_day is not None:
        final = (
            f"; the final month's due {d.final_month_report_due}"
            if d.final_month_report_due
            else ""
        )
        parts.append(
            f"Monthly report due on day {d.monthly_report_day} of the next month, "
            f"{_CLOSED_RULE[d.monthly_report_closed_day_rule]}{final}."
        )
    else:
        parts.append("No monthly report.")
    if p.events:
        parts.append(f"Events: {', '.join(e.id for e in p.events)}.")
    if p.deliverables:
        parts.append(f"Deliverables: {', '.join(x.id for x in p.deliverables)}.")
    parts.append(
        f"Office hours {r.office_start:%H:%M}-{r.office_end:%H:%M}; reminders "
        f"{r.before_due_open_days}開庁日 before a due date, the prefecture told after "
        f"{r.escalate_prefecture_after_overdue_open_days}開庁日 overdue; survey reminder after "
        f"{p.survey.reminder_after_open_days}開庁日, closed after {p.survey.grace_open_days}."
    )
    closed = ", ".join(day.isoformat() for day in p.closed_days) or "none"
    parts.append(f"Closed days besides weekends, holidays and 12/29-1/3: {closed}.")
    if p.stage_model is not None:
        parts.append(f"Stage model {p.stage_model.name} with {len(p.stage_model.stages)} stages.")
    flags = [
        name
        for name, on in (
            ("roster visible to officers", p.roster_visible_to_officers),
            ("roster shows contacts", p.roster_shows_contacts),
            ("intake via the prefecture", p.intake_via_prefecture),
            ("the demo default", p.demo_default),
        )
        if on
    ]
    if flags:
        parts.append(f"Also: {', '.join(flags)}.")
    return " ".join(parts)
