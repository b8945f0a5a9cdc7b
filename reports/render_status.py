"""The status views as a short chat message, the worst first: what needs doing (overdue reports,
tracks behind) before what is fine. Full tables belong in the deck or an export.

Every Japanese word comes from the catalogue; this module only arranges lines.
"""

from __future__ import annotations

import datetime as dt

from bot.core.catalog import t
from reminders.calendar import BusinessCalendar, format_jp, format_jp_datetime
from reminders.clock import JST
from reports import engagement_view
from reports import queue as queue_view
from reports import stages as stage_view
from reports.status import (
    CaseView,
    ExpertStatus,
    Flag,
    OfficerStatus,
    ProgramStatus,
    StatusView,
    TrackProgress,
    overdue_open_days,
)
from reports.structure_view import render_lines as structure_lines
from store.cases import STATUSES
from store.reporting import SessionRow, SurveySummary

METHOD_KEYS = ("online", "onsite", "email", "chat", "phone")


def num(value: float, digits: int = 1) -> str:
    """12 → '12', 12.5 → '12.5', 0.3333 → '0.33' (digits after the point, no trailing zeros)."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


def method_label(method: str) -> str:
    return t(f"sv_method_{method}") if method in METHOD_KEYS else method


def resolved_label(value: str | None) -> str:
    return t(f"sv_resolved_{value}") if value in ("resolved", "partly", "not_yet") else ""


def status_label(status: str) -> str:
    return STATUSES.get(status, status)


def _jst_date(value: dt.datetime) -> dt.date:
    return value.astimezone(JST).date()


def render(view: StatusView, cal: BusinessCalendar) -> str:
    if isinstance(view, ProgramStatus):
        return render_program(view, cal)
    if isinstance(view, OfficerStatus):
        return render_officer(view)
    return render_expert(view, cal)


# --- staff and prefecture ------------------------------------------------------------------------


def render_program(v: ProgramStatus, cal: BusinessCalendar) -> str:
    today = _jst_date(v.as_of)
    lines = [
        t(
            "sv_header",
            program=v.program_name,
            date=format_jp(today),
            remaining=v.clock.remaining,
        )
    ]
    if v.queue is not None:  # what waits for whom leads (reports/queue.py)
        lines += queue_view.section_lines(v.queue)
    lines += _attention(v, cal, today)
    lines.append(t("sv_section_tracks"))
    for tp in v.tracks:
        lines += _track_lines(tp)
    names = {tp.track_id: tp.name for tp in v.tracks}
    for rule in v.onsite:
        if rule.program_rule:
            lines.append(
                t(
                    "sv_rule_onsite",
                    names="・".join(names.get(x, x) for x in rule.tracks),
                    onsite=rule.onsite_held,
                    minimum=rule.minimum,
                    unmet="" if rule.met else t("sv_onsite_unmet"),
                )
            )
    lines.append(_cases_line(v.cases_by_status))
    lines += _week_lines(v)
    lines += _cap_lines(v)
    lines.append(_experts_line(v))
    lines.append(_survey_line(v.survey))
    lines += engagement_view.render_lines(v.engagements)
    if v.stages is not None:
        lines += stage_view.render_lines(v.stages)
    lines += structure_lines(v.structure)
    lines.append(t("sv_footer"))
    return "\n".join(lines)


def _attention(v: ProgramStatus, cal: BusinessCalendar, today: dt.date) -> list[str]:
    lines = [t("sv_section_attention")]
    behind = [tp for tp in v.tracks if tp.state == "behind"]
    if v.pending.overdue:
        lines.append(t("sv_overdue", n=v.pending.overdue))
    if v.pending.due_soon:
        lines.append(t("sv_due_soon", n=v.pending.due_soon, days=3))
    for row in v.pending.rows:
        lines.append(_pending_line(row, cal, today))
    shown = len(v.pending.rows)
    rest = v.pending.overdue + v.pending.due_soon - shown
    if rest > 0:
        lines.append(t("sv_more", n=rest))
    if behind:
        lines.append(t("sv_behind_tracks", names="、".join(tp.name for tp in behind)))
    short_of_minimum = [tp.name for tp in v.tracks if tp.minimum_unmet and tp.state != "behind"]
    if short_of_minimum:
        lines.append(t("sv_minimum_tracks", names="、".join(short_of_minimum)))
    names = {tp.track_id: tp.name for tp in v.tracks}
    for flag in v.flags:
        if flag.kind == "onsite_minimum_not_met":
            lines.append("・" + flag_text(flag, names))
    if len(lines) == 1:
        lines.append(t("sv_no_attention"))
    return lines


def _pending_line(row: SessionRow, cal: BusinessCalendar, today: dt.date) -> str:
    late = overdue_open_days(cal, row.report_due, today)
    if row.report_due < today:
        when = t("sv_late", days=late)
    elif row.report_due == today:
        when = t("sv_due_today")
    else:
        when = ""
    return t(
        "sv_pending_line",
        session_id=row.id,
        case_no=row.case_no,
        municipalities="・".join(row.municipality_names),
        holders="、".join(row.expert_names) or t("sv_nobody"),
        due=format_jp(row.report_due),
        late=when,
    )


def flag_text(flag: Flag, track_names: dict[str, str]) -> str:
    """A shortfall in words (the 要対応 lines and the JSON's ``flags``)."""
    return t(
        f"sv_flag_{flag.kind}",
        tracks="・".join(track_names.get(x, x) for x in flag.tracks),
        held=flag.held,
        needed=flag.needed,
        municipality=flag.municipality,
    )


def _track_lines(tp: TrackProgress) -> list[str]:
    hours = num(tp.hours_held)
    cancelled = t("sv_track_cancelled", n=tp.cancelled) if tp.cancelled else ""
    if tp.goal is None:
        lines = [
            t(
                "sv_track_no_goal",
                name=tp.name,
                held=tp.held,
                hours=hours,
                scheduled=tp.scheduled,
                cancelled=cancelled,
            )
        ]
    else:
        minimum = ""
        if tp.target is not None and tp.minimum is not None:
            key = "sv_track_minimum_behind" if tp.minimum_behind else "sv_track_minimum"
            minimum = t(key, minimum=tp.minimum)
        lines = [
            t(
                "sv_track_line",
                mark=t(f"sv_mark_{tp.state}"),
                name=tp.name,
                held=tp.held,
                goal=tp.goal,
                goal_kind=t("sv_goal_target" if tp.target is not None else "sv_goal_minimum"),
                minimum=minimum,
                hours=hours,
                scheduled=tp.scheduled,
                cancelled=cancelled,
            )
        ]
        if tp.state != "achieved" and tp.pace_needed is not None:
            lines.append(
                t(
                    "sv_track_pace",
                    remaining=tp.remaining,
                    need=num(tp.pace_needed, 2),
                    week=num(tp.pace_needed * 5, 1),
                    current=num(tp.pace_current or 0.0, 2),
                )
            )
    if tp.minimum_onsite:
        unmet = "" if tp.onsite_held >= tp.minimum_onsite else t("sv_onsite_unmet")
        lines.append(
            t("sv_track_onsite", onsite=tp.onsite_held, minimum=tp.minimum_onsite, unmet=unmet)
        )
    return lines


def _cases_line(by_status: dict[str, int]) -> str:
    parts = [
        t("sv_case_count", label=label, n=by_status[key])
        for key, label in STATUSES.items()
        if by_status.get(key)
    ]
    total = sum(by_status.values())
    if not parts:
        return t("sv_cases_none")
    return t("sv_cases", counts="・".join(parts), total=total)


def _week_lines(v: ProgramStatus) -> list[str]:
    lines = [
        t(
            "sv_week",
            start=format_jp(v.week.start),
            end=format_jp(v.week.end),
            n=v.week_sessions,
        )
    ]
    for row in v.week_rows:
        lines.append(_session_line(row))
    if v.week_sessions > len(v.week_rows):
        lines.append(t("sv_more", n=v.week_sessions - len(v.week_rows)))
    return lines


def _session_line(row: SessionRow) -> str:
    return t(
        "sv_week_line",
        start=format_jp_datetime(row.starts_at),
        case_no=row.case_no,
        municipalities="・".join(row.municipality_names),
        experts="、".join(row.expert_names) or t("sv_nobody"),
        method=method_label(row.method),
    )


def _names_with_counts(items: list[tuple[str, int]], limit: int = 6) -> str:
    if not items:
        return t("sv_none")
    text = "、".join(f"{name}({n})" for name, n in items[:limit])
    if len(items) > limit:
        text += t("sv_and_more", n=len(items) - limit)
    return text


def _cap_lines(v: ProgramStatus) -> list[str]:
    lines = []
    for cw in v.caps:
        lines.append(
            t(
                "sv_caps",
                track=cw.track_name,
                cap=cw.cap,
                at=_names_with_counts(cw.at_cap),
                near=_names_with_counts(cw.near_cap),
                n=cw.municipalities,
            )
        )
    lines.append(t("sv_covered", n=v.municipalities_covered))
    return lines


def _experts_line(v: ProgramStatus) -> str:
    sp = v.experts
    busiest, idlest = sp.busiest, sp.idlest
    if busiest is None or idlest is None:
        return t("sv_experts_none")
    return t(
        "sv_experts",
        n=len(sp.experts),
        max_name=busiest.name,
        max=sp.maximum,
        min_name=idlest.name,
        min=sp.minimum,
        mean=num(sp.mean),
        stdev=num(sp.stdev),
        held=sp.held,
        hours=num(sp.hours_held),
    )


def _survey_line(sv: SurveySummary) -> str:
    if not sv.answered:
        return t("sv_survey_none", waiting=sv.requested_unanswered)
    return t(
        "sv_survey",
        n=sv.answered,
        avg=num(sv.average, 2) if sv.average is not None else "-",
        resolved=sv.by_resolved.get("resolved", 0),
        partly=sv.by_resolved.get("partly", 0),
        not_yet=sv.by_resolved.get("not_yet", 0),
        waiting=sv.requested_unanswered,
    )


# --- officer and expert ---------------------------------------------------------------------------


def render_officer(v: OfficerStatus) -> str:
    lines = [
        t(
            "sv_officer_header",
            municipality=v.municipality_name,
            date=format_jp(_jst_date(v.as_of)),
        )
    ]
    lines.append(_cases_line(v.cases_by_status))
    if not v.open_cases:
        lines.append(t("sv_officer_no_cases"))
    for c in v.open_cases[:8]:
        nxt = (
            t("sv_officer_next", start=format_jp_datetime(c.next_session_at))
            if c.next_session_at
            else ""
        )
        lines.append(
            t(
                "sv_officer_case_line",
                case_no=c.case_no,
                status=status_label(c.status),
                desc=_short(c.description, 30),
                next=nxt,
            )
        )
        lines += queue_view.officer_case_lines(v.queue, c.id)
    if len(v.open_cases) > 8:
        lines.append(t("sv_more", n=len(v.open_cases) - 8))
    if v.upcoming:
        lines.append(t("sv_upcoming"))
        lines += [_session_line(r) for r in v.upcoming]
    for cu in v.caps:
        lines.append(
            t(
                "sv_officer_cap",
                track=cu.track_name,
                used=cu.booked,
                cap=cu.cap,
                held=cu.held,
                scheduled=cu.scheduled,
            )
        )
    if v.survey.answered:
        lines.append(_survey_line(v.survey))
    lines.append(t("sv_officer_footer"))
    return "\n".join(lines)


def render_expert(v: ExpertStatus, cal: BusinessCalendar) -> str:
    today = _jst_date(v.as_of)
    lines = [t("sv_expert_header", name=v.name, date=format_jp(today))]
    total = v.pending.overdue + v.pending.due_soon
    if total:
        lines.append(t("sv_expert_pending", n=total, overdue=v.pending.overdue))
        lines += [_pending_line(r, cal, today) for r in v.pending.rows]
        if total > len(v.pending.rows):
            lines.append(t("sv_more", n=total - len(v.pending.rows)))
        lines.append(t("sv_expert_report_hint"))
    else:
        lines.append(t("sv_expert_no_pending"))
    if v.upcoming:
        lines.append(t("sv_upcoming"))
        lines += [_session_line(r) for r in v.upcoming]
    lines.append(t("sv_expert_totals", held=v.held, hours=num(v.hours_held), scheduled=v.scheduled))
    return "\n".join(lines)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- one case -------------------------------------------------------------------------------------


def render_case(v: CaseView, now: dt.datetime) -> str:
    c = v.detail.case
    lines = [
        t(
            "sv_case_header",
            case_no=c.case_no,
            municipality=c.municipality_name,
            status=status_label(c.status),
        ),
        t(
            "sv_case_body",
            track=v.track_name,
            domains="、".join(c.domains) or t("sv_none"),
            opened=format_jp(_jst_date(c.opened_at)),
            method=method_label(c.preferred_method),
            desc=_short(c.description, 120),
        ),
    ]
    if v.show_personal and (c.requester_name or c.department):
        lines.append(
            t(
                "sv_case_requester",
                department=c.department,
                title=c.requester_title,
                name=c.requester_name,
            )
        )
    if c.approved_expert:
        lines.append(t("sv_case_expert", name=c.approved_expert))
    sessions = v.detail.sessions
    lines.append(t("sv_case_sessions", n=len([r for r in sessions if r.status != "cancelled"])))
    for r in sessions:
        lines.append(_case_session_line(r, v, now))
        if r.survey_answered:
            lines.append(
                t(
                    "sv_case_survey",
                    sat=r.satisfaction if r.satisfaction is not None else "-",
                    resolved=resolved_label(r.resolved),
                )
            )
    lines.append(t("sv_case_history"))
    for h in v.detail.history:
        lines.append(
            t(
                "sv_history_line",
                at=format_jp_datetime(h.at),
                frm=status_label(h.from_status) if h.from_status else t("sv_history_new"),
                to=status_label(h.to_status),
                actor=h.actor_label or "-",
                reason=f"「{_short(h.reason, 40)}」" if h.reason else "",
            )
        )
    return "\n".join(lines)


def report_state(r: SessionRow, cal: BusinessCalendar, now: dt.datetime) -> str:
    today = _jst_date(now)
    if r.status == "cancelled":
        return t("sv_report_cancelled")
    if r.report_submitted_at is not None:
        return t("sv_report_submitted", date=format_jp(_jst_date(r.report_submitted_at)))
    if r.ends_at > now:
        return t("sv_report_not_yet", due=format_jp(r.report_due))
    if r.report_due < today:
        return t(
            "sv_report_overdue",
            due=format_jp(r.report_due),
            days=overdue_open_days(cal, r.report_due, today),
        )
    return t("sv_report_pending", due=format_jp(r.report_due))


def _case_session_line(r: SessionRow, v: CaseView, now: dt.datetime) -> str:
    return t(
        "sv_case_session_line",
        session_id=r.id,
        start=format_jp_datetime(r.starts_at),
        hours=num(r.hours),
        method=method_label(r.method),
        municipalities="・".join(r.municipality_names),
        experts="、".join(r.expert_names) or t("sv_nobody"),
        report=report_state(r, v.calendar, now),
    )
