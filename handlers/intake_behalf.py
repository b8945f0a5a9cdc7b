"""Intake opened by the prefecture on a municipality's behalf.

Where consultations come in via the prefecture (Kumamoto §2.3(1) 個別相談については、県を経由して
受け付ける; profile ``intake_via_prefecture``), a prefecture user's 「相談したい」 or `/consult`
first asks which municipality and which of its registered officers is asking, then runs the
ordinary intake (handlers.intake) with that officer as the requester: the officer gets the
notices and the survey, and the case's history says who opened it on whose behalf.
"""

from __future__ import annotations

from typing import Any

from bot.core.catalog import t
from bot.core.choices import ask_again, fold
from bot.core.context import Context
from bot.core.conversation import Conversation
from bot.core.dates import normalize
from bot.core.messages import Choice, Outbound
from bot.core.permissions import Action, require
from handlers.intake import BEHALF_FLOW, FIELD_LABELS, IntakeFlow
from store import reference, users
from store.models import Municipality, User

OFFICER_VALUE = "officer:"
FIELDS_FROM_OFFICER = ("department", "requester_name", "requester_title")


def _fields(conv: Conversation) -> dict[str, Any]:
    fields: dict[str, Any] = conv.data.setdefault("f", {})
    return fields


class BehalfIntakeFlow:
    name = BEHALF_FLOW
    label = IntakeFlow.label

    def __init__(self) -> None:
        self.intake = IntakeFlow()

    async def start(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        require(ctx.actor, Action.OPEN_CASE_ON_BEHALF)
        conv.data["first_text"] = text.strip()
        munis = await users.municipalities_with_officers(ctx.s, ctx.profile.prefecture_code)
        if not munis:
            conv.finish()
            return [Outbound(text=t("behalf_no_officers_at_all"))]
        return [self._ask_municipality(conv, munis)]

    async def on_input(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        if conv.step == "behalf_municipality":
            return await self._on_municipality(ctx, conv, text)
        if conv.step == "behalf_officer":
            return await self._on_officer(ctx, conv, text)
        if conv.step == "edit_pick" and self._means_municipality(text):
            # Another municipality means another requester: ask both again.
            conv.data["editing"] = True
            munis = await users.municipalities_with_officers(ctx.s, ctx.profile.prefecture_code)
            return [self._ask_municipality(conv, munis)]
        return await self.intake.on_input(ctx, conv, text)

    @staticmethod
    def _means_municipality(text: str) -> bool:
        return text == "municipality" or normalize(text).strip() == FIELD_LABELS["municipality"]

    # --- which municipality ---------------------------------------------------------------------

    def _ask_municipality(self, conv: Conversation, munis: list[Municipality]) -> Outbound:
        conv.goto("behalf_municipality")
        return Outbound(
            text=t("behalf_ask_municipality"),
            choices=tuple(Choice(label=m.name, value=m.code) for m in munis),
        )

    async def _on_municipality(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        munis = await users.municipalities_with_officers(ctx.s, ctx.profile.prefecture_code)
        chosen = [m for m in munis if m.code == text]
        if not chosen:
            found = await reference.resolve_municipality(
                ctx.s, text.strip(), ctx.profile.prefecture_code
            )
            if len(found) != 1:
                question = self._ask_municipality(conv, munis)
                example = munis[0].name if munis else ""
                note = t(
                    "behalf_municipality_unknown",
                    text=text.strip()[:30],
                    prefecture=ctx.profile.prefecture,
                    example=example,
                )
                return [Outbound(text=note), question]
            chosen = found
        muni = chosen[0]
        officers = await users.officers_of(ctx.s, muni.code)
        if not officers:
            return [
                Outbound(text=t("behalf_no_officer", municipality=muni.name)),
                self._ask_municipality(conv, munis),
            ]
        conv.data["behalf_municipality"] = {"code": muni.code, "name": muni.name}
        return [self._ask_officer(conv, muni.name, officers)]

    # --- which officer ------------------------------------------------------------------------

    def _ask_officer(self, conv: Conversation, muni_name: str, officers: list[User]) -> Outbound:
        conv.goto("behalf_officer")
        return Outbound(
            text=t("behalf_ask_officer", municipality=muni_name),
            choices=tuple(
                Choice(label=_officer_label(u), value=f"{OFFICER_VALUE}{u.id}") for u in officers
            ),
        )

    async def _on_officer(self, ctx: Context, conv: Conversation, text: str) -> list[Outbound]:
        muni: dict[str, str] = conv.data["behalf_municipality"]
        officers = await users.officers_of(ctx.s, muni["code"])
        if text.startswith(OFFICER_VALUE):
            found = [u for u in officers if f"{OFFICER_VALUE}{u.id}" == text]
        else:
            # A name typed in any width or spacing (「山田花子」 for 「山田 花子」), or a unique part.
            typed = fold(text)
            found = [u for u in officers if fold(u.name) == typed] or [
                u for u in officers if typed and typed in fold(u.name)
            ]
        if len(found) != 1:
            return ask_again(self._ask_officer(conv, muni["name"], officers))
        officer = found[0]
        conv.data["behalf"] = {"user_id": officer.id, "name": officer.name or officer.platform_id}
        fields = _fields(conv)
        fields["municipality"] = dict(muni)
        for key, value in zip(
            FIELDS_FROM_OFFICER, (officer.department, officer.name, officer.title), strict=True
        ):
            if value:
                fields[key] = value
            else:
                fields.pop(key, None)
        first = conv.data.pop("first_text", "")
        if first:
            await self.intake._read_first_message(ctx, conv, first)
        if conv.data.pop("editing", False):
            return [self.intake._summary(ctx, conv)]
        return await self.intake._next(ctx, conv)


def _officer_label(user: User) -> str:
    where = " ".join(p for p in (user.department, user.title) if p)
    name = user.name or user.platform_id
    return t("behalf_officer_entry", name=name, where=where) if where else name
