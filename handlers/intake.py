"""Intake (相談受付): a short conversation that opens a case.

The bot reads what the first message already says, asks one short question at a time only for
what is missing, restates dates as 2026年12月3日(木), shows a summary to confirm, change one
field, or cancel, and then opens the case with a readable id and notifies staff and prefecture.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

from bot.core.catalog import t
from bot.core.choices import Chosen, ask_again, match
from bot.core.context import Context
from bot.core.conversation import Conversation
from bot.core.dates import DateMention, normalize, parse_dates
from bot.core.errors import UserError
from bot.core.messages import Choice, Form, FormField, Outbound
from bot.core.permissions import Action, Role, can, require
from bot.core.router import Router
from handlers import experts, extract
from handlers.lifecycle import notify_change
from reminders.calendar import format_jp
from store import cases as case_store
from store import reference, rules, users

FLOW = "intake"
ORDER = (
    "municipality",
    "department",
    "requester_name",
    "requester_title",
    "description",
    "domains",
    "method",
    "dates",
)
FIELD_LABELS = {
    "municipality": "団体名",
    "department": "部署",
    "requester_name": "お名前",
    "requester_title": "役職",
    "description": "相談内容",
    "domains": "分野",
    "method": "希望する方法",
    "dates": "希望日時",
    # Optional, never asked in turn: offered in the change menu where the actor may see the
    # roster (Miyazaki ②, Saitama §6(3)), or read from the first message.
    "preferred_expert": t("label_preferred_expert"),
}
LABEL_KEYS = {label: key for key, label in FIELD_LABELS.items()}
UNKNOWN_WORDS = (
    "わからない",
    "分からない",
    "不明",
    "おまかせ",
    "お任せ",
    "未定",
    "いつでも",
    "特になし",
    "なし",
)
PART_LABELS = {"am": "午前", "pm": "午後", "evening": "夕方", "allday": "終日"}
BEHALF_FLOW = "intake_behalf"
"""The intake a prefecture user runs for a municipality's officer (handlers.intake_behalf)."""
MAX_FIELD = {"department": 60, "requester_name": 40, "requester_title": 40, "description": 2000}


def _f(conv: Conversation) -> dict[str, Any]:
    fields: dict[str, Any] = conv.data.setdefault("f", {})
    return fields


def _is_unknown(text: str) -> bool:
    return normalize(text).strip() in UNKNOWN_WORDS


class IntakeFlow:
    name = FLOW
    label = "相談受付"
    resume_command = "/consult"

    async def resume(self, ctx: Context, conv: Conversation) -> list[Outbound]:
        """The first question still unanswered, asked again."""
        return await self._next(ctx, conv)

    async def start(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        require(ctx.actor, Action.OPEN_CASE)
        check_open_for_cases(ctx)
        fields = _f(conv)
        await self._prefill_from_user(ctx, fields)
        notes: list[Outbound] = []
        if text.strip():
            notes = await self._read_first_message(ctx, conv, text)
        return notes + await self._next(ctx, conv)

    async def on_input(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        step = conv.step
        if step == "confirm":
            return await self._on_confirm(ctx, conv, text)
        if step == "edit_pick":
            # A button sends the key; on LoGo and the console people also type the label.
            key = text if text in FIELD_LABELS else LABEL_KEYS.get(normalize(text).strip(), "")
            if not key or (key == "preferred_expert" and not experts.roster_visible(ctx)):
                return ask_again(self._edit_menu(ctx))
            conv.data["editing"] = True
            return [await self._ask(ctx, conv, key)]
        if step == "municipality_pick":
            return await self._on_municipality_pick(ctx, conv, text)
        if step in FIELD_LABELS:
            reply = await self._accept(ctx, conv, step, text)
            if reply is not None:
                return reply
        if conv.data.pop("editing", False):
            return [self._summary(ctx, conv)]
        return await self._next(ctx, conv)

    # --- reading ------------------------------------------------------------------------------

    async def _prefill_from_user(self, ctx: Context, fields: dict[str, Any]) -> None:
        if ctx.actor.role is not Role.OFFICER:
            return
        found = await users.with_municipality(ctx.s, ctx.actor.user_id)
        if found is None:
            return
        user, muni = found
        fields["municipality"] = {"code": muni.code, "name": muni.name}
        if user.department:
            fields["department"] = user.department
        if user.name:
            fields["requester_name"] = user.name
        if user.title:
            fields["requester_title"] = user.title

    async def _municipalities(self, ctx: Context) -> list[tuple[str, str]]:
        names = await reference.municipality_names(ctx.s, ctx.profile.prefecture_code)
        return list(names.items())

    async def _read_first_message(
        self, ctx: Context, conv: Conversation, text: str
    ) -> list[Outbound]:
        fields = _f(conv)
        taxonomy = reference.domains()
        found = extract.rule_extract(
            text,
            ctx.now().date(),
            taxonomy,
            ctx.profile.extra_domains,
            await self._municipalities(ctx),
            ctx.profile.prefecture,
        )
        names = await users.all_names(ctx.s)
        domain_names = [d.name for d in taxonomy] + list(ctx.profile.extra_domains)
        try:
            model = await asyncio.wait_for(
                extract.llm_extract(ctx.llm, text, domain_names, names),
                timeout=ctx.settings.llm_timeout_seconds + 1,
            )
        except TimeoutError:
            model = None
        found = extract.merge(found, model)
        if "municipality" not in fields:
            if len(found.municipality_candidates) == 1 and not found.ambiguous_with_prefecture:
                code, name = found.municipality_candidates[0]
                fields["municipality"] = {"code": code, "name": name}
            elif found.municipality_candidates:
                conv.data["candidates"] = found.municipality_candidates[:5]
        for key, value in (
            ("department", found.department),
            ("requester_title", found.requester_title),
            ("method", found.method),
        ):
            if value and key not in fields:
                fields[key] = value
        if found.domains:
            fields["domains"] = found.domains
        if found.description:
            fields["description"] = found.description[: MAX_FIELD["description"]]
        if found.dates:
            fields["dates"] = [_mention_to_dict(m) for m in found.dates]
        await experts.preferred_from_text(ctx, fields, text)
        return []

    # --- asking -------------------------------------------------------------------------------

    async def _next(self, ctx: Context, conv: Conversation) -> list[Outbound]:
        fields = _f(conv)
        if "municipality" not in fields and conv.data.get("candidates"):
            return [self._municipality_choices(ctx, conv)]
        for key in ORDER:
            if key not in fields:
                return [await self._ask(ctx, conv, key)]
        return [self._summary(ctx, conv)]

    async def _ask(self, ctx: Context, conv: Conversation, key: str) -> Outbound:
        conv.goto(key)
        if key == "domains":
            names = [d.name for d in reference.domains()] + list(ctx.profile.extra_domains)
            return Outbound(
                text=t("ask_domains"),
                choices=tuple(Choice(label=n, value=n) for n in names),
            )
        if key == "preferred_expert":
            return await experts.preferred_question(ctx)
        if key == "method":
            return Outbound(
                text=t("ask_method"),
                choices=tuple(
                    Choice(label=lbl, value=code) for code, lbl in extract.METHOD_LABELS.items()
                ),
            )
        return Outbound(text=t(f"ask_{key}"))

    def _municipality_choices(self, ctx: Context, conv: Conversation) -> Outbound:
        conv.goto("municipality_pick")
        cands: list[list[str]] = conv.data["candidates"]
        choices = [Choice(label=name, value=code) for code, name in cands]
        choices.append(Choice(label=t("municipality_other"), value="other"))
        return Outbound(
            text=t("ask_municipality_ambiguous", prefecture=ctx.profile.prefecture),
            choices=tuple(choices),
        )

    async def _on_municipality_pick(
        self, ctx: Context, conv: Conversation, text: str
    ) -> list[Outbound]:
        conv.data.pop("candidates", None)
        if text != "other":
            reply = await self._accept(ctx, conv, "municipality", text)
            if reply is not None:
                return reply
            return await self._next(ctx, conv)
        return [await self._ask(ctx, conv, "municipality")]

    # --- accepting answers --------------------------------------------------------------------

    async def _accept(
        self, ctx: Context, conv: Conversation, key: str, text: str
    ) -> list[Outbound] | None:
        """Store one answer; return a reply only when the answer cannot be used."""
        fields = _f(conv)
        value = text.strip()
        if not value:
            return [Outbound(text=t("answer_empty")), await self._ask(ctx, conv, key)]
        if key == "municipality":
            pref = ctx.profile.prefecture_code
            found = await reference.resolve_municipality(ctx.s, value, pref)
            if not found and (outside := reference.outside_prefecture(value, pref)):
                where = "、".join(dict.fromkeys(m.prefecture_name for m in outside))
                name = ctx.profile.prefecture
                note = t("municipality_outside", text=value[:30], where=where, prefecture=name)
                return [Outbound(text=note)]  # named where it is, not "not found"
            if len(found) != 1:
                return [
                    Outbound(
                        text=t(
                            "municipality_unknown",
                            text=value[:30],
                            prefecture=ctx.profile.prefecture,
                        )
                    )
                ]
            if ctx.actor.role is Role.OFFICER and found[0].code != ctx.actor.municipality_code:
                return [Outbound(text=t("municipality_not_yours"))]
            fields["municipality"] = {"code": found[0].code, "name": found[0].name}
            return None
        if key == "domains":
            return self._accept_domains(ctx, conv, value)
        if key == "method":
            method = value if value in extract.METHOD_LABELS else extract.find_method(value)
            if not method:
                return ask_again(await self._ask(ctx, conv, key))
            fields["method"] = method
            return None
        if key == "dates":
            return self._accept_dates(ctx, fields, value)
        if key == "preferred_expert":
            problem = await experts.accept_preferred(ctx, fields, value)
            return [*problem, await self._ask(ctx, conv, key)] if problem else None
        limit = MAX_FIELD.get(key, 200)
        if len(value) > limit:
            return [Outbound(text=t("answer_too_long", label=FIELD_LABELS[key], limit=limit))]
        fields[key] = value
        return None

    def _accept_domains(
        self, ctx: Context, conv: Conversation, value: str
    ) -> list[Outbound] | None:
        fields = _f(conv)
        offered: list[str] = [d.name for d in reference.domains()] + list(ctx.profile.extra_domains)
        if _is_unknown(value):
            fields["domains"] = []
            return None
        chosen: list[str] = []
        for part in re.split(r"[,、，\s・]+", normalize(value)):
            if not part:
                continue
            # Each of several answers is read like a single one (number or label).
            found = match([(name, name) for name in offered], part)
            if isinstance(found, Chosen):
                chosen.append(found.value)
        if not chosen:
            chosen = extract.find_domains(value, reference.domains(), ctx.profile.extra_domains)
        if not chosen:
            return [Outbound(text=t("domains_unknown", count=len(offered)))]
        fields["domains"] = list(dict.fromkeys(chosen))[:5]
        return None

    def _accept_dates(
        self, ctx: Context, fields: dict[str, Any], value: str
    ) -> list[Outbound] | None:
        if _is_unknown(value):
            fields["dates"] = []
            fields["dates_note"] = value[:40]
            return None
        mentions = parse_dates(value, ctx.now().date())
        if not mentions:
            return [Outbound(text=t("dates_unreadable", text=value[:40]))]
        fields["dates"] = [_mention_to_dict(m) for m in mentions][:6]
        fields.pop("dates_note", None)
        return None

    # --- confirming ---------------------------------------------------------------------------

    def _summary(self, ctx: Context, conv: Conversation) -> Outbound:
        conv.goto("confirm")
        rows = summary_rows(ctx, _f(conv))
        warnings = date_warnings(ctx, _f(conv))
        text = t("intake_summary") + ("\n" + "\n".join(warnings) if warnings else "")
        return Outbound(
            text=text,
            fields=tuple(rows),
            choices=(
                Choice(label=t("choice_submit"), value="submit", style="primary"),
                Choice(label=t("choice_edit"), value="edit"),
                Choice(label=t("choice_cancel"), value="cancel", style="danger"),
            ),
        )

    def _edit_menu(self, ctx: Context) -> Outbound:
        shown = experts.roster_visible(ctx)
        return Outbound(
            text=t("ask_edit_field"),
            choices=tuple(
                Choice(label=lbl, value=key)
                for key, lbl in FIELD_LABELS.items()
                if key != "preferred_expert" or shown
            ),
        )

    async def _on_confirm(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        answer = normalize(text).strip()
        if answer in ("submit", "はい", "申し込む", "OK", "ok", "送信", "確定"):
            return await self._open_case(ctx, conv)
        if answer in ("edit", "修正", "修正する", "変更", "いいえ"):
            conv.goto("edit_pick")
            return [self._edit_menu(ctx)]
        if answer == "cancel":
            conv.finish()
            return [Outbound(text=t("conversation_cancelled", flow=self.label))]
        return ask_again(self._summary(ctx, conv))

    async def _open_case(self, ctx: Context, conv: Conversation) -> list[Outbound]:
        check_open_for_cases(ctx)  # the last day of service may pass mid-conversation
        fields = _f(conv)
        track = ctx.profile.default_track
        behalf: dict[str, Any] | None = conv.data.get("behalf")
        requester_id = ctx.actor.user_id if ctx.actor.role is Role.OFFICER else None
        reason = ""
        if behalf is not None:
            # Opened by the prefecture for a municipality's officer (Kumamoto §2.3(1)): the
            # officer is the requester, the history names who opened it.
            requester_id = int(behalf["user_id"])
            reason = t(
                "behalf_history_reason",
                actor=ctx.actor.label,
                municipality=fields["municipality"]["name"],
                officer=behalf["name"],
            )
        preferred = fields.get("preferred_expert") or {}
        case = await case_store.create(
            ctx.s,
            program_id=ctx.profile.id,
            prefix=ctx.profile.case_prefix,
            year=ctx.profile.fiscal_year,
            track_id=track.id,
            municipality_code=fields["municipality"]["code"],
            now=ctx.now(),
            requester_user_id=requester_id,
            department=fields.get("department", ""),
            requester_name=fields.get("requester_name", ""),
            requester_title=fields.get("requester_title", ""),
            domains=fields.get("domains", []),
            description=fields.get("description", ""),
            preferred_method=fields.get("method", track.default_method),
            preferred_dates=[format_mention(ctx, d) for d in fields.get("dates", [])]
            or ([fields["dates_note"]] if fields.get("dates_note") else []),
            actor_user_id=ctx.actor.user_id or None,
            actor_label=ctx.actor.label,
            preferred_expert_user_id=preferred.get("id"),
            reason=reason,
        )
        await notify_change(ctx, case, None, "received", ctx.actor.label, reason)
        conv.finish()
        if behalf is not None:
            return [
                Outbound(
                    text=t(
                        "behalf_case_opened",
                        case_no=case.case_no,
                        municipality=fields["municipality"]["name"],
                        officer=behalf["name"],
                    )
                )
            ]
        return [
            Outbound(
                text=t(
                    "case_opened", case_no=case.case_no, municipality=fields["municipality"]["name"]
                )
            )
        ]


def _mention_to_dict(m: DateMention) -> dict[str, str | None]:
    return {
        "day": m.day.isoformat(),
        "part": m.part,
        "start": m.start.strftime("%H:%M") if m.start else None,
        "end": m.end.strftime("%H:%M") if m.end else None,
    }


def format_mention(ctx: Context, d: dict[str, Any]) -> str:
    text = format_jp(dt.date.fromisoformat(d["day"]))
    if d.get("start") and d.get("end"):
        text += f" {d['start']}〜{d['end']}"
    elif d.get("start"):
        text += f" {d['start']}〜"
    elif d.get("end"):
        text += f" 〜{d['end']}"
    elif d.get("part"):
        text += f" {PART_LABELS[d['part']]}"
    return text


def date_warnings(ctx: Context, fields: dict[str, Any]) -> list[str]:
    out = []
    today = ctx.now().date()
    for d in fields.get("dates", []):
        day = dt.date.fromisoformat(d["day"])
        if day < today:
            out.append(t("date_past", day=format_jp(day)))
        else:
            reason = ctx.calendar.closed_reason(day)
            if reason:
                out.append(t("date_closed", day=format_jp(day), reason=reason))
    return out


def summary_rows(ctx: Context, fields: dict[str, Any]) -> list[tuple[str, str]]:
    dates = "、".join(format_mention(ctx, d) for d in fields.get("dates", []))
    return [
        (FIELD_LABELS["municipality"], fields.get("municipality", {}).get("name", "")),
        (FIELD_LABELS["department"], fields.get("department", "")),
        (FIELD_LABELS["requester_name"], fields.get("requester_name", "")),
        (FIELD_LABELS["requester_title"], fields.get("requester_title", "")),
        (
            FIELD_LABELS["domains"],
            "、".join(fields.get("domains", [])) or t("domains_staff_decides"),
        ),
        (FIELD_LABELS["method"], extract.METHOD_LABELS.get(fields.get("method", ""), "")),
        (FIELD_LABELS["dates"], dates or fields.get("dates_note", "") or "未定"),
        (FIELD_LABELS["description"], fields.get("description", "")),
    ] + (
        [(FIELD_LABELS["preferred_expert"], fields["preferred_expert"]["name"])]
        if fields.get("preferred_expert")
        else []
    )


def opens_on_behalf(ctx: Context) -> bool:
    """A prefecture user where consultations come in via the prefecture (Kumamoto §2.3(1))."""
    return (
        ctx.profile.intake_via_prefecture
        and ctx.actor.role is Role.PREFECTURE
        and can(ctx.actor, Action.OPEN_CASE_ON_BEHALF)
    )


def _wants_consultation(ctx: Context, text: str) -> bool:
    if ctx.actor.role not in (Role.OFFICER, Role.STAFF, Role.ADMIN) and not opens_on_behalf(ctx):
        return False
    norm = normalize(text)
    return "相談" in norm or (ctx.actor.role is Role.OFFICER and extract.looks_like_request(norm))


FORM_ID = "intake_form"
FORM_WORDS = ("form", "フォーム")


def intake_form(ctx: Context) -> Form:
    """The intake as one form (a Slack modal), an alternative to the conversation."""
    names = [d.name for d in reference.domains()] + list(ctx.profile.extra_domains)
    fields = []
    if ctx.actor.role is not Role.OFFICER:
        fields.append(FormField(name="municipality", label=FIELD_LABELS["municipality"]))
    fields += [
        FormField(name="department", label=FIELD_LABELS["department"]),
        FormField(name="requester_name", label=FIELD_LABELS["requester_name"]),
        FormField(name="requester_title", label=FIELD_LABELS["requester_title"]),
        FormField(name="description", label=FIELD_LABELS["description"], multiline=True),
        FormField(
            name="domains[]",
            label=FIELD_LABELS["domains"],
            optional=True,
            options=tuple(Choice(label=n, value=n) for n in names),
        ),
        FormField(
            name="method",
            label=FIELD_LABELS["method"],
            options=tuple(
                Choice(label=lbl, value=code) for code, lbl in extract.METHOD_LABELS.items()
            ),
        ),
        FormField(name="dates", label=FIELD_LABELS["dates"], optional=True),
    ]
    return Form(
        form_id=FORM_ID,
        title=t("intake_form_title"),
        fields=tuple(fields),
        submit_label=t("intake_form_submit"),
    )


async def submit_form(ctx: Context, flow: IntakeFlow, conv: Conversation) -> list[Outbound]:
    """Fill the conversation from a submitted form, then show the usual summary (or ask for
    whatever the form left unusable), so both paths share every rule."""
    values = dict(ctx.inbound.form or {})
    if "domains[]" in values:
        values["domains"] = values.pop("domains[]") or "わからない"
    fields = _f(conv)
    await flow._prefill_from_user(ctx, fields)
    notes: list[Outbound] = []
    for key in ORDER:
        value = (values.get(key) or "").strip()
        if key == "dates" and not value:
            value = "未定"
        if not value:
            continue
        problem = await flow._accept(ctx, conv, key, value)
        if problem:
            notes.extend(p for p in problem if not p.choices)
            fields.pop(key, None)
    return notes + await flow._next(ctx, conv)


def check_open_for_cases(ctx: Context) -> None:
    """A program past its last day of service takes no new consultations (store/rules.py)."""
    ended = rules.new_work_refusal(ctx.profile, ctx.now(), "case")
    if ended is not None:
        raise UserError(ended.key, **ended.params)


def register(router: Router) -> None:
    engine = router.engine

    async def consult(ctx: Context, args: str) -> list[Outbound]:
        check_open_for_cases(ctx)
        if opens_on_behalf(ctx):
            words = "" if args.strip().lower() in FORM_WORDS else args
            return await engine.begin(ctx, BEHALF_FLOW, words)
        require(ctx.actor, Action.OPEN_CASE)
        if not args.strip():
            # 「/consult」 again goes back to the consultation being written, if any.
            resumed = await engine.resume(ctx, FLOW)
            if resumed is not None:
                return resumed
        if args.strip().lower() in FORM_WORDS and ctx.inbound.supports_forms:
            return [Outbound(text=t("intake_form_opening"), form=intake_form(ctx))]
        return await engine.begin(ctx, FLOW, "" if args.strip().lower() in FORM_WORDS else args)

    async def form_submitted(ctx: Context, _value: str) -> list[Outbound]:
        require(ctx.actor, Action.OPEN_CASE)
        check_open_for_cases(ctx)
        return await engine.begin_with(ctx, FLOW, submit_form)

    router.command("/consult", consult)
    router.action(FORM_ID, form_submitted)
    router.intent(_wants_consultation, consult)
