"""Follow-up and the session record (支援実施報告 / 業務日報).

After a session the expert is asked the report's questions one at a time, with what the bot
already knows filled in (municipalities, date and time, method, place, responders, hours). The
expert may paste free notes instead: labelled lines (「課題：…」) are read offline, and with the
LLM configured the rest is extracted too; only the gaps are then asked. Nothing required is left
empty. The expert confirms or corrects one field; the record is stored (amendments keep the
history), a report file goes to the staff channel, the case moves to 報告済, and the officer is
asked for the survey. On an engagement of a program with a stage model, the stage reached (and
its KPI) is asked last (handlers/followup_stage.py).

The reminder pass's port (what each ping says and to whom) is in handlers/followup_reminders.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from bot.core.catalog import t
from bot.core.choices import ask_again
from bot.core.context import Context
from bot.core.conversation import PAUSE, Conversation, ConversationEngine
from bot.core.dates import normalize
from bot.core.errors import UserError
from bot.core.messages import Choice, Outbound
from bot.core.permissions import Action, Role, require
from bot.core.router import Router
from handlers import followup_stage
from handlers.report_drafts import PREAMBLE as PREAMBLE
from handlers.report_drafts import (
    LLMReport,
    build_record,
    looks_like_notes,
    parse_hours,
    parse_labelled_notes,
    session_facts,
    session_when,
)
from handlers.review import ask_review, deliver, receiver_word
from handlers.review import request_survey as request_survey
from reminders.calendar import format_jp
from reminders.clock import JST
from reminders.planner import snoozed_until
from reports.session_report import (
    BY_MUNICIPALITY,
    PER_MUNICIPALITY_KEYS,
    REPORT_FIELDS,
    municipality_sections,
    report_rule,
)
from store import cases as case_store
from store import reminders as reminder_store
from store import sessions as session_store
from store import users as user_store
from store.db import Session
from store.models import Case, SupportSession

FLOW = "followup"
ASKED = [f.key for f in REPORT_FIELDS if f.asked]
LABELS = {f.key: f.label for f in REPORT_FIELDS}


# A report is often written days after the session: its draft is kept past the report's
# usual 5開庁日 and a weekend or a holiday week, whether paused (「あとで」) or just left open.
DRAFT_KEEP = dt.timedelta(days=14)


class FollowupFlow:
    name = FLOW
    label = "支援実施報告"
    keep = DRAFT_KEEP
    resume_command = "/report"

    async def resume(self, ctx: Context, conv: Conversation) -> list[Outbound]:
        """The question the draft stopped at, asked again (nothing answered is asked twice)."""
        step = conv.step
        if step == "confirm":
            return [self._summary(conv)]
        if step == "edit_pick":
            return [self._edit_menu(conv)]
        if step in followup_stage.STEPS:
            return [followup_stage.question(conv) or self._summary(conv)]
        if step in _labels(conv):
            return [self._ask(conv, step)]
        return [self._next(conv)]

    async def start(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        require(ctx.actor, Action.WRITE_REPORT)
        session = await _own_session(ctx, text.strip())
        f: dict[str, Any] = await session_facts(ctx.s, session)
        current = await session_store.current_report(ctx.s, session.id)
        rule = report_rule(ctx.profile, session.track_id)
        munis = await session_store.municipalities_of(ctx.s, session.id)
        # One report per municipality (Yamagata §6(4)): with several, the shared parts are
        # asked once and only what differs (PER_MUNICIPALITY_KEYS) per municipality.
        sections = [[c, n] for c, n in munis] if rule.per_municipality and len(munis) > 1 else []
        if current is not None:
            f.update(
                {
                    k: str(v)
                    for k, v in current.fields.items()
                    if v not in (None, "") and k != BY_MUNICIPALITY
                }
            )
            for code, section in municipality_sections(current):
                f.update({f"{k}@{code}": v for k, v in section.items() if k != "name" and v})
        conv.data.update(
            {
                "sid": session.id,
                "draft_key": str(session.id),
                "f": f,
                "amend": current is not None,
                "files": [],
                "munis": sections,
            }
        )
        if current is not None and f.get("hours"):
            # The stored report's hours were confirmed when it was submitted: an amendment
            # must not ask for them again on submission.
            conv.data["confirmed"] = ["hours"]
        case = await case_store.get(ctx.s, session.case_id)
        if current is None:  # an amendment does not ask the stage again (staff: /dx stage)
            await followup_stage.prepare(ctx, conv, case)
        intro = Outbound(
            text=t(
                "report_intro",
                case_no=case.case_no if case else "",
                due=format_jp(session.report_due),
            )
            + ("\n" + t("report_amend_note") if current is not None else "")
            + (
                "\n" + t("report_returned_note", reason=session.report_review_note)
                if session.report_stage == session_store.RETURNED
                else ""
            )
            + (
                "\n" + t("report_per_municipality_note", names="、".join(n for _, n in sections))
                if sections
                else ""
            ),
            fields=tuple(
                (LABELS[k], str(f[k]))
                for k in ("municipalities", "datetime", "method", "place", "responders")
            ),
        )
        if current is not None:
            return [intro, self._summary(conv)]
        return [intro, self._ask(conv, _asked(conv)[0], with_notes_hint=True)]

    async def on_input(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        attached = self._keep_files(ctx, conv)
        step = conv.step
        if step == "confirm":
            return await self._on_confirm(ctx, conv, text)
        labels = _labels(conv)
        if step == "edit_pick":
            if text == followup_stage.STAGE and followup_stage.edit_choice(conv):
                conv.data["editing"] = True
                return [followup_stage.ask_stage(conv)]
            if text not in labels or text not in _asked(conv):
                return ask_again(self._edit_menu(conv))
            conv.data["editing"] = True
            return [self._ask(conv, text)]
        if step in followup_stage.STEPS:
            asked = followup_stage.on_answer(conv, text)
            if asked:
                return asked
        elif step in labels:
            if step == "materials" and attached and not text.strip():
                pass  # the attached files answer the question; their names are in the field
            elif not conv.data.get("notes_read") and looks_like_notes(text):
                conv.data["notes_read"] = True
                await self._read_notes(ctx, conv, text)
            else:
                problem = self._accept(conv, step, text)
                if problem is not None:
                    return [problem, self._ask(conv, step)]
                if step == "materials" and attached:
                    self._add_materials(conv, attached, replace=normalize(text).strip() == "なし")
        if conv.data.pop("editing", False):
            return [self._summary(conv)]
        return [self._next(conv)]

    # --- answers ------------------------------------------------------------------------------

    def _keep_files(self, ctx: Context, conv: Conversation) -> list[str]:
        """Keep the files of this message for the record; their names join 使用した資料.

        Returns the names, so that an answer typed with the files at the materials question
        adds to them instead of replacing them (the report must list what was attached)."""
        names = []
        for fref in ctx.inbound.files:
            conv.data.setdefault("files", []).append(
                {"name": fref.name[:200], "url": fref.url, "content_type": fref.content_type}
            )
            names.append(fref.name[:200])
        self._add_materials(conv, names)
        return names

    @staticmethod
    def _add_materials(conv: Conversation, names: list[str], *, replace: bool = False) -> None:
        f = conv.data["f"]
        current = "" if replace else f.get("materials", "")
        f["materials"] = "、".join(x for x in dict.fromkeys((current, *names)) if x)

    def _accept(self, conv: Conversation, key: str, text: str) -> Outbound | None:
        value = text.strip()
        f = conv.data["f"]
        if key == "hours":
            if value in ("はい", "yes", "ok", "OK") and f.get("hours"):
                conv.data.setdefault("confirmed", []).append("hours")
                return None
            hours = parse_hours(value)
            if hours is None:
                return Outbound(text=t("report_hours_invalid"))
            f["hours"] = f"{hours:g}"
            conv.data.setdefault("confirmed", []).append("hours")
            return None
        label = _labels(conv)[key]
        if not value:
            return Outbound(text=t("report_field_required", label=label))
        if len(value) > 4000:
            return Outbound(text=t("answer_too_long", label=label, limit=4000))
        f[key] = value
        return None

    async def _read_notes(self, ctx: Context, conv: Conversation, text: str) -> None:
        f = conv.data["f"]
        found = parse_labelled_notes(text)
        preamble = found.pop(PREAMBLE, "")
        if ctx.llm.enabled:
            names = await user_store.all_names(ctx.s)
            try:
                model = await asyncio.wait_for(
                    ctx.llm.extract(t("report_llm_instructions"), text, LLMReport, names),
                    timeout=ctx.settings.llm_timeout_seconds + 1,
                )
            except TimeoutError:
                model = None
            if model is not None:
                for key, value in model.model_dump().items():
                    if value and key not in found:
                        found[key] = value
        if not found:
            # Unlabelled notes and nothing extracted: keep them as the summary, ask the rest.
            found["summary"] = text.strip()
        elif preamble and conv.step in _labels(conv) and not f.get(conv.step):
            found.setdefault(conv.step, preamble)
        for key, value in found.items():
            if key == "hours":
                hours = parse_hours(value)
                if hours is not None:
                    f["hours"] = f"{hours:g}"
                    conv.data.setdefault("confirmed", []).append("hours")
            else:
                f[key] = value[:4000]

    # --- asking -------------------------------------------------------------------------------

    def _missing(self, conv: Conversation) -> list[str]:
        f = conv.data["f"]
        confirmed = set(conv.data.get("confirmed", []))
        return [
            k
            for k in _asked(conv)
            if (k == "hours" and "hours" not in confirmed) or (k != "hours" and not f.get(k))
        ]

    def _next(self, conv: Conversation) -> Outbound:
        missing = self._missing(conv)
        if missing:
            return self._ask(conv, missing[0])
        return followup_stage.question(conv) or self._summary(conv)

    def _ask(self, conv: Conversation, key: str, *, with_notes_hint: bool = False) -> Outbound:
        conv.goto(key)
        f = conv.data["f"]
        if key == "hours":
            # No numbered 「はい」 choice here: the answer is often a number, and a typed "2"
            # would be taken as choice 2 (or "1" as 「はい」, keeping the wrong hours).
            return Outbound(text=t("report_ask_hours", hours=f.get("hours", "")))
        base, _, code = key.partition("@")
        text = t(f"report_ask_{base}")
        if code:
            name = dict((c, n) for c, n in conv.data.get("munis", [])).get(code, "")
            text = t("report_ask_for_municipality", name=name) + text
        if with_notes_hint:
            text = t("report_notes_hint") + "\n" + text
        return Outbound(text=text)

    def _summary(self, conv: Conversation) -> Outbound:
        conv.goto("confirm")
        f = conv.data["f"]
        return Outbound(
            text=t("report_summary"),
            fields=(
                *((label, str(f.get(key, ""))) for key, label in _shown(conv)),
                *followup_stage.summary_fields(conv),
            ),
            choices=(
                Choice(label=t("report_choice_submit"), value="submit", style="primary"),
                Choice(label=t("choice_edit"), value="edit"),
                Choice(label=t("report_choice_later"), value=PAUSE),
            ),
        )

    def _edit_menu(self, conv: Conversation) -> Outbound:
        labels = _labels(conv)
        return Outbound(
            text=t("ask_edit_field"),
            choices=(
                *(Choice(label=labels[k], value=k) for k in _asked(conv)),
                *followup_stage.edit_choice(conv),
            ),
        )

    async def _on_confirm(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        answer = normalize(text).strip()
        if answer in ("submit", "はい", "提出", "提出する", "OK", "ok"):
            missing = self._missing(conv)
            if missing:
                return [self._ask(conv, missing[0])]
            return await self._submit(ctx, conv)
        if answer in ("edit", "修正", "修正する"):
            conv.goto("edit_pick")
            return [self._edit_menu(conv)]
        return ask_again(self._summary(conv))

    async def _submit(self, ctx: Context, conv: Conversation) -> list[Outbound]:
        found = await session_store.with_case(ctx.s, conv.data["sid"])
        if found is None:
            raise UserError("report_session_missing")
        session, case = found.session, found.case
        fields = dict(conv.data["f"])
        was_submitted = session.report_submitted_at is not None
        if session.status == "scheduled":
            # Reported before the reminder pass saw it end (it has ended: _own_session checks):
            # the pass looks for ended sessions among unreported ones only.
            session.status = "done"
        hours = parse_hours(fields.get("hours", ""))
        if hours is not None:
            await session_store.record_actual_hours(ctx.s, session, hours)
        review = report_rule(ctx.profile, session.track_id).staff_review
        report = await session_store.add_report(
            ctx.s,
            session,
            build_record(conv.data.get("munis") or [], fields),
            author_user_id=ctx.actor.user_id,
            now=ctx.now(),
            deliver=not review,
        )
        await session_store.add_attachments(
            ctx.s, session.id, conv.data.get("files", []), ctx.now()
        )
        await followup_stage.record(ctx, conv, case, session.id)
        conv.finish()
        if review:
            await ask_review(ctx, case, session, report, author=ctx.actor.label)
            return [
                Outbound(
                    text=t(
                        "report_handed_in_review",
                        case_no=case.case_no,
                        version=report.version,
                        receiver=receiver_word(ctx, session),
                    )
                )
            ]
        await deliver(ctx, case, session, report, author=ctx.actor.label, first=not was_submitted)
        key = "report_amended" if was_submitted else "report_submitted"
        return [Outbound(text=t(key, case_no=case.case_no, version=report.version))]


def _asked(conv: Conversation) -> list[str]:
    """The keys asked, in order: with several municipalities, the shared parts first, then
    each municipality's own (``attendees@<code>`` …), the hours last."""
    munis = conv.data.get("munis") or []
    if not munis:
        return ASKED
    shared = [k for k in ASKED if k not in PER_MUNICIPALITY_KEYS and k != "hours"]
    own = [f"{k}@{code}" for code, _ in munis for k in PER_MUNICIPALITY_KEYS]
    return [*shared, *own, "hours"]


def _labels(conv: Conversation) -> dict[str, str]:
    labels = dict(LABELS)
    for code, name in conv.data.get("munis") or []:
        for k in PER_MUNICIPALITY_KEYS:
            labels[f"{k}@{code}"] = t("report_municipality_label", label=LABELS[k], name=name)
    return labels


def _shown(conv: Conversation) -> list[tuple[str, str]]:
    """(key, label) of the summary: the record's fields, each municipality's own after them."""
    munis = conv.data.get("munis") or []
    if not munis:
        return [(fld.key, fld.label) for fld in REPORT_FIELDS]
    labels = _labels(conv)
    shared = [(fld.key, fld.label) for fld in REPORT_FIELDS if fld.key not in PER_MUNICIPALITY_KEYS]
    own = [(f"{k}@{c}", labels[f"{k}@{c}"]) for c, _ in munis for k in PER_MUNICIPALITY_KEYS]
    return [*shared, *own]


async def _own_session(ctx: Context, ref: str) -> SupportSession:
    """A session of the acting expert (by id or case number); others look 'not found'."""
    ref = case_store.case_key(ref)
    session = await session_store.expert_session(
        ctx.s, ctx.profile.id, ctx.actor.user_id, ref, ctx.now()
    )
    if session is None:
        raise UserError("report_not_found", ref=ref[:30] or "（未指定）")
    return session


async def _open(ctx: Context, engine: ConversationEngine, session_id: int) -> list[Outbound]:
    """A session's report: its draft where one was paused, a new (or amended) one otherwise."""
    resumed = await engine.resume(ctx, FLOW, str(session_id))
    if resumed is not None:
        return resumed
    return await engine.begin(ctx, FLOW, str(session_id))


async def _amend(ctx: Context, engine: ConversationEngine, ref: str) -> list[Outbound]:
    """`/report amend [支援ID|案件番号]`: the one report named, or the latest ones to choose from
    (latest first), each with its session's day and hours."""
    if ref.isdigit():
        session = await _own_session(ctx, ref)
        return await _open(ctx, engine, session.id)
    found = await session_store.expert_reported_sessions(
        ctx.s, ctx.profile.id, ctx.actor.user_id, case_store.case_key(ref)
    )
    if not found:
        if ref:
            raise UserError("report_not_found", ref=ref[:30])
        return [Outbound(text=t("report_none_to_amend"))]
    if len(found) == 1:
        return await _open(ctx, engine, found[0][0].id)
    return [
        Outbound(
            text=t("report_pick_amend"),
            action_id="report_start",
            choices=tuple(
                Choice(
                    label=t(
                        "report_pick_amend_item",
                        session_id=session.id,
                        case_no=case_no,
                        when=session_when(session.starts_at, session.ends_at),
                    ),
                    value=str(session.id),
                )
                for session, case_no in found
            ),
        )
    ]


# --- chat commands ------------------------------------------------------------------------------


def register(router: Router) -> None:
    engine = router.engine

    async def report_command(ctx: Context, args: str) -> list[Outbound]:
        require(ctx.actor, Action.WRITE_REPORT)
        ref = normalize(args).strip()
        if ref.lower().startswith("amend"):
            return await _amend(ctx, engine, ref[len("amend") :].strip())
        if ref:
            session = await _own_session(ctx, ref)
            return await _open(ctx, engine, session.id)
        pending = await reminder_store.pending_reports(
            ctx.s, ctx.profile.id, ctx.now(), expert_user_id=ctx.actor.user_id
        )
        drafts = {d.key for d in await engine.drafts(ctx, FLOW)}
        # 「/report」 again goes back to where the report stopped, never starts it over.
        current = await engine.active(ctx)
        if current is not None and current.flow == FLOW:
            resumed = await engine.resume(ctx, FLOW)
            if resumed is not None:
                return resumed
        # Drafts of amendments (their reports are in, so not pending) are offered too.
        amending = drafts - {str(p.session_id) for p in pending}
        if not pending:
            resumed = await engine.resume(ctx, FLOW) if drafts else None
            return resumed or [Outbound(text=t("report_none_pending"))]
        if len(pending) == 1 and not amending:
            return await _open(ctx, engine, pending[0].session_id)
        return [
            Outbound(
                text=t("report_pick") + ("\n" + t("report_pick_amending") if amending else ""),
                action_id="report_start",
                choices=tuple(
                    Choice(
                        label=t(
                            "report_pick_item",
                            session_id=p.session_id,
                            case_no=p.case_no,
                            when=session_when(p.starts_at, p.ends_at),
                            due=format_jp(p.report_due),
                        )
                        + (t("report_pick_draft") if str(p.session_id) in drafts else ""),
                        value=str(p.session_id),
                    )
                    for p in pending
                ),
            )
        ]

    async def report_start(ctx: Context, value: str) -> list[Outbound]:
        require(ctx.actor, Action.WRITE_REPORT)
        session = await _own_session(ctx, value)
        return await _open(ctx, engine, session.id)

    async def snooze(ctx: Context, _value: str) -> list[Outbound]:
        require(ctx.actor, Action.WRITE_REPORT)
        pending = await reminder_store.pending_reports(
            ctx.s, ctx.profile.id, ctx.now(), expert_user_id=ctx.actor.user_id
        )
        if not pending:
            return [Outbound(text=t("report_none_pending"))]
        # A snooze never reaches past the due day (the planner caps it there): on the due day
        # or after it, there is nothing to postpone, and the answer must not promise otherwise.
        nearest = min(p.report_due for p in pending)
        until = snoozed_until(ctx.now(), nearest, ctx.calendar, ctx.profile.reminders)
        if until <= ctx.now():
            return [Outbound(text=t("report_snooze_due", due=format_jp(nearest)))]
        for p in pending:
            await reminder_store.claim_step(
                ctx.s,
                key=f"snooze:{p.session_id}:{ctx.now().isoformat()}",
                session_id=p.session_id,
                step="snooze",
                recipient=ctx.actor.platform_id,
                now=ctx.now(),
            )
        return [
            Outbound(
                text=t(
                    "report_snoozed",
                    day=format_jp(until.astimezone(JST).date()),
                    due=format_jp(nearest),
                )
            )
        ]

    def wants_snooze(ctx: Context, text: str) -> bool:
        return ctx.actor.role is Role.EXPERT and normalize(text).strip() in (
            "あとで",
            "後で",
            "later",
        )

    router.command("/report", report_command)
    router.action("report_start", report_start)
    router.action("report_snooze", snooze)
    router.intent(wants_snooze, snooze)


async def has_open_sessions(s: Session, case: Case) -> bool:
    """Sessions still to be held or reported keep a case from closing."""
    return await session_store.has_open_sessions(s, case.id)
