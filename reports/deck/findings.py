"""What each slide found, as its title (「相談窓口は目標の50%、伴走2テーマは最低回数を達成」),
and the shortfalls against the profile's rules — minimums, on-site minimums, expected
municipalities, late reports, overdue deliverables.

A report built before the term ends is interim (中間): a track with a goal is compared with the
pace to date (the goal × the share of the term's 開庁日 gone), and a minimum not reached yet is
"残り", not "不足". The section's own title (the specification's heading) stays above the
finding as the slide's kicker (reports/deck/sections.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from bot.core.catalog import t
from reports.deck.data import DeckData, in_jst
from reports.deck.narrative import num
from store.profiles import SectionKind


def interim(d: DeckData) -> bool:
    """Built before the term's last day has passed (the figures are as of an earlier day)."""
    return in_jst(d.cutoff).date() < d.profile.term_end


def _kpis(d: DeckData) -> str | None:
    parts = []
    for tp in sorted(d.tracks, key=lambda tp: [x.id for x in d.profile.tracks].index(tp.track_id)):
        name = d.track_label(tp.track_id)
        if tp.target:
            if tp.held >= tp.target:
                parts.append(t("deck_find_goal_met", name=name))
            elif interim(d) and tp.expected_by_now is not None:
                parts.append(
                    t(
                        "deck_find_goal_interim",
                        name=name,
                        expected=num(tp.expected_by_now, 0),
                        held=tp.held,
                    )
                )
            else:
                parts.append(t("deck_find_goal", name=name, rate=num(tp.held / tp.target * 100, 0)))
        elif tp.minimum:
            left = tp.minimum - tp.held
            key = (
                "deck_find_minimum_met"
                if left <= 0
                else "deck_find_minimum_left"
                if interim(d)
                else "deck_find_minimum_unmet"
            )
            parts.append(t(key, name=name, n=max(left, 0)))
        else:
            parts.append(t("deck_find_count", name=name, held=tp.held))
    return t("deck_find_sep").join(parts) or None


def _trend(d: DeckData) -> str:
    per_month = [sum(v[i] for v in d.monthly.values()) for i in range(len(d.months))]
    if not any(per_month):
        return t("deck_find_trend_none")
    i = max(range(len(per_month)), key=lambda i: per_month[i])
    return t("deck_find_trend", month=d.months[i][1], n=per_month[i], total=sum(per_month))


def _domains(d: DeckData) -> str | None:
    if not d.domains:
        return None
    top, n = d.domains[0]
    return t("deck_find_domains", top=top, n=n, total=d.cases_opened)


def _munis(d: DeckData) -> str:
    covered = len(d.municipalities)
    total = d.total_municipalities or 1
    return t(
        "deck_find_munis",
        total=d.total_municipalities,
        covered=covered,
        rate=num(covered / total * 100, 0),
    )


def _experts(d: DeckData) -> str | None:
    sp = d.experts
    if not sp.experts:
        return None
    return t("deck_find_experts", n=len(sp.experts), max=sp.maximum, min=sp.minimum)


def _issues(d: DeckData) -> str | None:
    if not d.issues:
        return None
    return t("deck_find_issues", top=d.issues[0].category, n=d.issues[0].n)


def _surveys(d: DeckData) -> str | None:
    if not d.survey.answered or d.survey.average is None:
        return None
    return t("deck_find_surveys", n=d.survey.answered, avg=num(d.survey.average, 2))


def _joint(d: DeckData) -> str:
    if not d.joint:
        return t("deck_find_joint_none")
    return t(
        "deck_find_joint",
        n=len(d.joint),
        munis=len({c for r in d.joint for c, _ in r.municipalities}),
    )


def _engagements(d: DeckData) -> str | None:
    items = [e for e in d.engagements if e.expected]
    if not items:
        return None
    return t("deck_find_sep").join(
        t(
            "deck_find_engagements",
            track=d.track_label(e.track_id),
            expected=e.expected,
            engaged=len(e.engaged),
        )
        for e in items
    )


def _stages(d: DeckData) -> str | None:
    m = d.stages
    if m is None or not m.rows:
        return None
    last = m.counts[-1]
    return t("deck_find_stages", model=m.model.name, total=len(m.rows), last=last.reached)


def _stage_kpis(d: DeckData) -> str | None:
    m = d.stages
    if m is None or not m.rows:
        return None
    items = t("deck_find_sep").join(
        t(
            "deck_find_stage_kpi_item",
            label=t("stage_label", number=c.stage.number, name="").strip(),
            met=c.kpi_met,
        )
        for c in m.counts
    )
    return t("deck_find_stage_kpis", items=items)


def _events(d: DeckData) -> str | None:
    v = d.structure
    if v is None:
        return None
    held = sum(e.held for e in v.events)
    done = sum(i.done_at is not None for i in v.items)
    return t("deck_find_events", held=held, done=done, total=len(v.items))


def _highlights(d: DeckData) -> str | None:
    return t("deck_find_highlights", n=len(d.highlights)) if d.highlights else None


def _daily(d: DeckData) -> str | None:
    n = sum(1 for r in d.held if r.report)
    return t("deck_find_daily", n=n) if n else None


def _progress(d: DeckData) -> str | None:
    n = len({c for r in d.held for c, _ in r.municipalities})
    return t("deck_find_progress", n=n) if n else None


def _comments(d: DeckData) -> str | None:
    return t("deck_find_comments", n=len(d.comments)) if d.comments else None


FINDERS: dict[SectionKind, Callable[[DeckData], str | None]] = {
    "kpis": _kpis,
    "monthly_trend": _trend,
    "domains": _domains,
    "municipalities": _munis,
    "experts": _experts,
    "expert_pool": _experts,
    "highlights": _highlights,
    "issues": _issues,
    "surveys": _surveys,
    "joint_work": _joint,
    "engagements": _engagements,
    "stages": _stages,
    "stage_kpis": _stage_kpis,
    "events": _events,
    "daily_reports": _daily,
    "progress_by_municipality": _progress,
    "survey_comments": _comments,
}


def finding(d: DeckData, kind: SectionKind) -> str | None:
    """The slide's finding, or None where the kind states none (an overview, a text slide)."""
    finder = FINDERS.get(kind)
    return finder(d) if finder else None


def shortfall_lines(d: DeckData) -> list[str]:
    """Every shortfall against the profile's rules, in the words of a report to the prefecture
    (an interim report says what is left, a final one what is missing)."""
    lines = []
    for tp in d.tracks:
        if tp.minimum is None or tp.held >= tp.minimum:
            continue
        name = d.track_label(tp.track_id)
        if interim(d):
            lines.append(
                t(
                    "deck_short_minimum_left",
                    name=name,
                    minimum=tp.minimum,
                    n=tp.minimum - tp.held,
                    days=d.clock.remaining,
                )
            )
        else:
            lines.append(
                t(
                    "deck_short_minimum",
                    name=name,
                    minimum=tp.minimum,
                    held=tp.held,
                    n=tp.minimum - tp.held,
                )
            )
    lines += onsite_lines(d, "deck_short_onsite")
    for e in d.engagements:
        if e.expected and len(e.engaged) < e.expected:
            lines.append(
                t(
                    "deck_short_expected",
                    track=d.track_label(e.track_id),
                    expected=e.expected,
                    engaged=len(e.engaged),
                )
            )
    if d.reports["late"] or d.reports["overdue"]:
        lines.append(
            t("deck_short_late_reports", late=d.reports["late"], overdue=d.reports["overdue"])
        )
    if d.structure is not None and d.structure.overdue:
        names = Counter(i.title for i in d.structure.overdue)
        items = "、".join(f"{k}×{n}" if n > 1 else k for k, n in names.items())
        lines.append(t("deck_short_deliverables", n=len(d.structure.overdue), items=items))
    return lines


def onsite_lines(d: DeckData, key: str) -> list[str]:
    """The on-site minimums not met (Yamagata §3(1)⑤ across both accompaniment themes)."""
    out = []
    for rule in d.onsite:
        if rule.met:
            continue
        ref = next(
            (r.seed_ref for r in d.profile.program_rules if tuple(r.tracks) == tuple(rule.tracks)),
            "",
        )
        out.append(
            t(
                key,
                names="・".join(d.track_label(x) for x in rule.tracks),
                minimum=rule.minimum,
                onsite=rule.onsite_held,
                ref=ref or t("deck_short_title"),
            )
        )
    return out
