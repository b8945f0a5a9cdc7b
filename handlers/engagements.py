"""`/dx engage CASE [テーマ=… 目標=… 範囲=… 成果物=… 回数=10 開始=2027-01-12]` and
`/dx plan CASE`: the engagement recorded on a case and its plan document.

An engagement is one municipality's long-running support in one track (伴走支援, BPR): what was
agreed with it — theme, goal (取組目標), scope, deliverables, planned sessions, start (Yamagata
§3(1)③, Kumamoto §2.5(1) 支援計画書, Saitama §6(4)ア 実施プラン). Staff (and admins) record it
in the chat with forgiving key=value words, Japanese or English, any subset at a time; a value
runs to the next key, so it may hold spaces. Whoever may see the case — its municipality's
officers, its experts, the desk and the prefecture — may read it and ask for the plan document,
which is posted into the conversation as an Excel file.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.dates import normalize, parse_one_date
from bot.core.errors import UserError
from bot.core.messages import Outbound
from bot.core.permissions import Action, Role, can, require
from bot.core.router import Router
from handlers.export import Builder, Built, file_out, in_thread, post_file_later
from handlers.lifecycle import load_case_for
from reminders.calendar import format_jp
from reminders.clock import JST
from reports import plan_doc
from reports.engagement_view import stage_label
from store import audit, rules
from store import engagements as store
from store.db import Session
from store.models import Case, Engagement
from store.profiles import ProgramProfile, Track
from store.reference import names_by_code
from store.reporting import case_rows, counting_window

# The words staff may write before "=" (or ＝, :, ：), each naming one field.
KEYS: dict[str, str] = {
    "テーマ": "theme",
    "theme": "theme",
    "取組目標": "goal",
    "目標": "goal",
    "ゴール": "goal",
    "goal": "goal",
    "支援範囲": "scope",
    "対象範囲": "scope",
    "範囲": "scope",
    "scope": "scope",
    "成果物": "deliverables",
    "deliverables": "deliverables",
    "予定回数": "planned_sessions",
    "回数": "planned_sessions",
    "sessions": "planned_sessions",
    "開始日": "start_on",
    "開始": "start_on",
    "start": "start_on",
}
# A key counts only at the start or after a space, so "目標=" inside a value is not split
# unless it stands as a word of its own.
KEY_RE = re.compile(
    r"(?:^|(?<=\s))("
    + "|".join(re.escape(k) for k in sorted(KEYS, key=len, reverse=True))
    + r")\s*[=＝:：]",
    re.IGNORECASE,
)
MONTH_DAY_ONLY = re.compile(r"^\d{1,2}(?:月\d{1,2}日?|/\d{1,2})$")
MAX_THEME = 200
MAX_TEXT = 2000
MAX_SESSIONS = 500


def engagement_track(profile: ProgramProfile, case: Case) -> Track:
    """The case's track when it runs engagements, else a polite refusal naming the ones that do."""
    track = profile.track(case.track_id)
    if track.expected_municipalities is not None:
        return track
    others = store.engagement_tracks(profile)
    if not others:
        raise UserError("engage_no_tracks", program=profile.name)
    raise UserError(
        "engage_track_none",
        case_no=case.case_no,
        track=track.name,
        tracks="、".join(tr.name for tr in others),
    )


# --- parsing --------------------------------------------------------------------------------------


def parse_fields(text: str) -> dict[str, str]:
    """``テーマ=… 目標=…`` → {field: raw value}; text before the first key, or a key given
    twice, is refused with the usage."""
    found = list(KEY_RE.finditer(text))
    if not found or text[: found[0].start()].strip():
        raise UserError("engage_usage")
    out: dict[str, str] = {}
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        name = KEYS[m.group(1).lower()]
        if name in out:
            raise UserError("engage_key_twice", word=m.group(1))
        out[name] = text[m.end() : end].strip()
    return out


def _sessions(value: str) -> int | None:
    if not value:
        return None
    digits = normalize(value).strip().removesuffix("回").removesuffix("程度").strip()
    if not digits.isdigit() or not 1 <= int(digits) <= MAX_SESSIONS:
        raise UserError("engage_bad_number", text=value[:20], max=MAX_SESSIONS)
    return int(digits)


def _start(value: str, profile: ProgramProfile, today: dt.date) -> dt.date | None:
    if not value:
        return None
    day = parse_one_date(value, today)
    if day is None:
        raise UserError("engage_bad_date", text=value[:30])
    if rules.term_refusal(profile, day) is not None and MONTH_DAY_ONLY.match(normalize(value)):
        # 「12/1」 without a year names the one of the term, even when it has passed already
        # (an engagement is often recorded after it started).
        try:
            earlier = day.replace(year=day.year - 1)
        except ValueError:  # 2月29日
            earlier = day
        if rules.term_refusal(profile, earlier) is None:
            day = earlier
    refusal = rules.term_refusal(profile, day)
    if refusal is not None:
        raise UserError(refusal.key, **refusal.params)
    return day


def convert(raw: dict[str, str], profile: ProgramProfile, today: dt.date) -> dict[str, Any]:
    """Raw values to the stored types; an empty value clears the field."""
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if name == "planned_sessions":
            out[name] = _sessions(value)
        elif name == "start_on":
            out[name] = _start(value, profile, today)
        else:
            limit = MAX_THEME if name == "theme" else MAX_TEXT
            if len(value) > limit:
                raise UserError("engage_too_long", field=t(f"engage_field_{name}"), max=limit)
            out[name] = value
    return out


# --- showing --------------------------------------------------------------------------------------


def _value(text: str) -> str:
    return text if text else t("engage_blank")


async def _held(ctx: Context, case: Case) -> int:
    found = await case_rows(
        ctx.s, ctx.profile.id, ctx.now(), case_id=case.id, window=counting_window(ctx.profile)
    )
    return found[0].held if found else 0


async def record_text(ctx: Context, case: Case, track: Track, row: Engagement | None) -> str:
    names = await names_by_code(ctx.s, [case.municipality_code])
    header = t(
        "engage_header",
        case_no=case.case_no,
        municipality=names.get(case.municipality_code, case.municipality_code),
        track=track.name,
    )
    editor = can(ctx.actor, Action.RECORD_ENGAGEMENT)
    if row is None:
        return "\n".join(
            [header, t("engage_none_yet")]
            + ([t("engage_hint_edit", case_no=case.case_no)] if editor else [])
        )
    goal = _value(row.goal)
    if row.goal and row.goal_set_at is not None:
        goal += t("engage_goal_set_on", date=format_jp(row.goal_set_at.astimezone(JST).date()))
    planned = t("engage_sessions", n=row.planned_sessions) if row.planned_sessions else _value("")
    lines = [
        header,
        t("engage_line", label=t("engage_field_theme"), value=_value(row.theme)),
        t("engage_line", label=t("engage_field_goal"), value=goal),
        t("engage_line", label=t("engage_field_scope"), value=_value(row.scope)),
        t("engage_line", label=t("engage_field_deliverables"), value=_value(row.deliverables)),
        t(
            "engage_line",
            label=t("engage_field_planned_sessions"),
            value=planned + t("engage_held", n=await _held(ctx, case)),
        ),
        t(
            "engage_line",
            label=t("engage_field_start_on"),
            value=format_jp(row.start_on) if row.start_on else _value(""),
        ),
        t(
            "engage_line",
            label=t("engage_stage"),
            value=stage_label(ctx.profile, case.stage),
        ),
        t("engage_hint_edit" if editor else "engage_hint_view", case_no=case.case_no),
    ]
    return "\n".join(lines)


# --- the commands ---------------------------------------------------------------------------------


async def engage_command(ctx: Context, args: str) -> list[Outbound]:
    case_no, _, rest = args.strip().partition(" ")
    if not case_no:
        raise UserError("engage_usage")
    case = await load_case_for(ctx, case_no)
    track = engagement_track(ctx.profile, case)
    if not rest.strip():
        row = await store.get_by_case(ctx.s, case.id)
        return [Outbound(text=await record_text(ctx, case, track, row))]
    require(ctx.actor, Action.RECORD_ENGAGEMENT)
    names = await names_by_code(ctx.s, [case.municipality_code])
    refusal = rules.municipality_refusal(track, [case.municipality_code], names)
    if refusal is not None:
        raise UserError(refusal.key, **refusal.params)
    other = await store.other_case_engaged(
        ctx.s, ctx.profile.id, track.id, case.municipality_code, case.id
    )
    if other is not None:
        raise UserError(
            "engage_duplicate",
            municipality=names.get(case.municipality_code, case.municipality_code),
            track=track.name,
            other=other,
        )
    today = ctx.now().astimezone(JST).date()
    changes = convert(parse_fields(rest.strip()), ctx.profile, today)
    row, created = await store.save(ctx.s, case, changes, now=ctx.now(), actor=ctx.actor.label)
    await audit.record(
        ctx.s,
        at=ctx.now(),
        actor=ctx.actor.label,
        action="engagement_created" if created else "engagement_updated",
        object_type="case",
        object_id=case.case_no,
        detail={k: v.isoformat() if isinstance(v, dt.date) else v for k, v in changes.items()},
        program_id=case.program_id,
    )
    done = t("engage_saved_new" if created else "engage_saved", case_no=case.case_no)
    return [Outbound(text=done + "\n" + await record_text(ctx, case, track, row))]


async def plan_command(ctx: Context, args: str) -> list[Outbound]:
    case_no = args.strip().split(" ")[0] if args.strip() else ""
    if not case_no:
        raise UserError("plan_usage")
    case = await load_case_for(ctx, case_no)
    track = engagement_track(ctx.profile, case)
    if await store.get_by_case(ctx.s, case.id) is None:
        key = "plan_none_editor" if can(ctx.actor, Action.RECORD_ENGAGEMENT) else "plan_none"
        raise UserError(key, case_no=case.case_no)
    profile, now, case_id = ctx.profile, ctx.now(), case.id

    async def read(s: Session) -> Builder:
        data = await plan_doc.load_plan(s, profile, case_id, now)

        async def build() -> Built:
            if data is None:  # withdrawn between the request and the job: say so
                raise UserError("plan_none", case_no=case_no)
            f = await in_thread(plan_doc.plan_file, data)
            return file_out(f), t("plan_ready", title=f.title, case_no=data.case_no)

        return build

    post_file_later(ctx, read, f"plan-{case.case_no}")
    title = plan_doc.plan_title(track)
    return [Outbound(text=t("plan_preparing", case_no=case.case_no, title=title))]


def help_lines(ctx: Context) -> list[str]:
    """What `/dx help` adds where the program runs engagements (by role)."""
    if not store.engagement_tracks(ctx.profile):
        return []
    if can(ctx.actor, Action.RECORD_ENGAGEMENT):
        return [t("help_engage_staff")]
    if ctx.actor.role in (Role.OFFICER, Role.EXPERT, Role.PREFECTURE):
        return [t("help_engage_view")]
    return []


def register(router: Router) -> None:
    router.dx_command("engage", engage_command)
    router.dx_command("plan", plan_command)
