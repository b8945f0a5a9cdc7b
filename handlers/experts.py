"""The expert roster in the chat (`/dx experts [分野]`).

Miyazaki ② asks for a list of the experts with what each can cover and is good at, so that a
municipality can name the expert it wants; Saitama §6(3) publishes the roster to the
municipalities, listing only experts who agreed to be listed (ウ). The desk and the prefecture
always see the roster (with contact details, and marking who is not listed); officers see it
only where the program profile says so, only listed experts, and contact details only where
the profile allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.catalog import t
from bot.core.choices import fold
from bot.core.context import Context
from bot.core.messages import Choice, Outbound
from bot.core.permissions import (
    Role,
    may_see_roster_contacts,
    may_view_roster,
    require_view_roster,
)
from bot.core.router import Router
from store import reference, rules, users
from store.matching import facts_of
from store.models import Case, ExpertProfile, User

HONORIFICS = ("さん", "様", "さま", "氏", "先生")
NO_PREFERENCE = "none"
EXPERT_VALUE = "expert:"
# The rules' refusals (store/rules.py) as the short clause of 「…ため、候補の先頭にしていません」.
WHY_NOT = {
    "expert_cannot_visit": "preferred_why_not_onsite",
    "expert_not_consented": "preferred_why_not_listed",
}
UNKNOWN_WORDS = ("なし", "指定なし", "特になし", "わからない", "おまかせ", "お任せ")


@dataclass(frozen=True)
class RosterEntry:
    user: User
    profile: ExpertProfile


def roster_visible(ctx: Context) -> bool:
    return may_view_roster(ctx.actor, officers_allowed=ctx.profile.roster_visible_to_officers)


async def visible_roster(ctx: Context) -> list[RosterEntry]:
    """The experts the actor may see: everyone for the desk and the prefecture, only those who
    consented to be listed for officers (and nobody where officers may not see the roster)."""
    if not roster_visible(ctx):
        return []
    listed_only = ctx.actor.role is Role.OFFICER
    return [
        RosterEntry(row.user, row.expert)
        for row in await users.list_experts(ctx.s)
        if row.expert is not None and (row.expert.consent_listed or not listed_only)
    ]


def domain_names(ctx: Context) -> list[str]:
    return [d.name for d in reference.domains()] + list(ctx.profile.extra_domains)


def domains_for_word(ctx: Context, word: str) -> list[str]:
    """The taxonomy's domains an officer means by a word: a part of the label (「セキュリティ」,
    「ＡＩ」 in any width), else one of the domain's keywords (「窓口」)."""
    typed = fold(word)
    if not typed:
        return []
    names = domain_names(ctx)
    by_label = [n for n in names if typed in fold(n)]
    if by_label:
        return by_label
    return [
        d.name
        for d in reference.domains()
        if any(fold(k) == typed or fold(k) in typed for k in d.keywords)
    ]


def match_name(entries: list[RosterEntry], text: str) -> list[RosterEntry]:
    """Experts a typed name points at: the whole name in any width or spacing (「田中誠」 for
    「田中 誠」, hiragana for a katakana name), else the experts whose name contains it (「田中」);
    honorifics (さん・様) are ignored. The caller asks again when more than one is found."""
    typed = fold(text)
    for suffix in HONORIFICS:
        typed = typed.removesuffix(fold(suffix))
    if not typed:
        return []
    exact = [e for e in entries if fold(e.user.name or e.user.platform_id) == typed]
    if exact:
        return exact
    return [e for e in entries if typed in fold(e.user.name or e.user.platform_id)]


def _entry_text(ctx: Context, n: int, entry: RosterEntry, *, contacts: bool) -> str:
    prof = entry.profile
    text = t(
        "roster_entry",
        n=n,
        name=entry.user.name or entry.user.platform_id,
        domains="、".join(prof.domains) or t("roster_blank"),
        strengths=prof.strengths or t("roster_blank"),
        onsite=t("roster_onsite_yes") if prof.onsite else t("roster_onsite_no"),
    )
    if contacts and entry.user.email:
        text += t("roster_contact", email=entry.user.email)
    if not prof.consent_listed:
        text += t("roster_unlisted")
    return text


async def experts_command(ctx: Context, args: str) -> list[Outbound]:
    """`/dx experts [分野]` — names, domains, strengths, on-site ability."""
    if ctx.actor.role is Role.OFFICER and not roster_visible(ctx):
        return [Outbound(text=t("roster_not_for_officers"))]
    require_view_roster(ctx.actor, officers_allowed=ctx.profile.roster_visible_to_officers)
    entries = await visible_roster(ctx)
    word = args.strip()
    wanted: list[str] = []
    if word:
        wanted = domains_for_word(ctx, word)
        if not wanted:
            return [Outbound(text=t("roster_domain_unknown", word=word[:30]))]
        entries = [e for e in entries if set(e.profile.domains) & set(wanted)]
    if not entries:
        key = "roster_none_in_domain" if wanted else "roster_empty"
        return [Outbound(text=t(key, domains="、".join(wanted)))]
    contacts = may_see_roster_contacts(
        ctx.actor, officers_see_contacts=ctx.profile.roster_shows_contacts
    )
    header = t(
        "roster_header",
        count=len(entries),
        filter=t("roster_filter", domains="、".join(wanted)) if wanted else "",
    )
    body = [_entry_text(ctx, i, e, contacts=contacts) for i, e in enumerate(entries, start=1)]
    lines = [header, *body]
    if ctx.actor.role is Role.OFFICER:
        lines.append(t("roster_footer_officer"))
    return [Outbound(text="\n".join(lines))]


# --- the preferred expert at intake (Miyazaki ② 市町村が人材を指定) ---------------------------


async def preferred_question(ctx: Context) -> Outbound:
    """「ご希望の専門人材」 as a numbered question: the roster the actor may see, then 指定しない."""
    roster = await visible_roster(ctx)
    offered = [
        Choice(label=e.user.name or e.user.platform_id, value=f"{EXPERT_VALUE}{e.user.id}")
        for e in roster
    ]
    offered.append(Choice(label=t("preferred_expert_no_choice"), value=NO_PREFERENCE))
    return Outbound(text=t("ask_preferred_expert"), choices=tuple(offered))


async def accept_preferred(ctx: Context, fields: dict[str, Any], value: str) -> list[Outbound]:
    """Store the expert named by button, number or name (any width, spacing, さん) in the
    intake's fields, or clear it for 「指定しない」; a reply only when the answer names nobody
    or several people."""
    if value == NO_PREFERENCE or fold(value) in {
        fold(w) for w in (*UNKNOWN_WORDS, t("preferred_expert_no_choice"))
    }:
        fields.pop("preferred_expert", None)
        return []
    roster = await visible_roster(ctx)
    if value.startswith(EXPERT_VALUE):
        found = [e for e in roster if f"{EXPERT_VALUE}{e.user.id}" == value]
    else:
        found = match_name(roster, value)
    if len(found) == 1:
        user = found[0].user
        fields["preferred_expert"] = {"id": user.id, "name": user.name or user.platform_id}
        return []
    if found:
        names = "、".join(e.user.name for e in found)
        return [Outbound(text=t("preferred_expert_ambiguous", text=value[:30], names=names))]
    return [Outbound(text=t("preferred_expert_unknown", text=value[:30]))]


async def preferred_from_text(ctx: Context, fields: dict[str, Any], text: str) -> None:
    """An expert of the roster named in a first message (「田中誠さんにお願いしたい」)."""
    typed = fold(text)
    named = [
        e
        for e in await visible_roster(ctx)
        if e.user.name and fold(e.user.name) in typed and not _negated(typed, fold(e.user.name))
    ]
    if len(named) == 1:
        fields["preferred_expert"] = {"id": named[0].user.id, "name": named[0].user.name}


# 「田中誠さん以外で」「田中さんではない方を」: a name followed by these is not a preference.
_NEGATIONS = tuple(
    fold(w)
    for w in ("以外", "でない", "ではない", "じゃない", "ではなく", "でなく", "は避け", "を除")
)


def _negated(typed: str, name: str) -> bool:
    """Whether the folded ``name`` is named in ``typed`` only to be excluded."""
    at = typed.find(name)
    while at >= 0:
        rest = typed[at + len(name) :]
        for suffix in HONORIFICS:
            rest = rest.removeprefix(fold(suffix))
        if not rest.startswith(_NEGATIONS):
            return False
        at = typed.find(name, at + 1)
    return True


async def preferred_note(ctx: Context, case: Case, proposed: list[int]) -> str:
    """Why the expert the municipality named is not first among the proposals (「ご希望の
    田中 誠さんは訪問に対応していないため、…」), or "" when they are first or none was named.
    The reason is the program rules' own (store/rules.py), the one matching applies."""
    wanted = case.preferred_expert_user_id
    if wanted is None or wanted in proposed[:1]:
        return ""
    user = await users.get(ctx.s, wanted)
    if user is None:
        return ""
    if not user.active or user.role != "expert":
        why = t("preferred_why_inactive")
    else:
        facts = facts_of(user, await users.expert_profile(ctx.s, user.id))
        refusal = rules.expert_refusal(ctx.profile, facts, case.preferred_method)
        if refusal is None:
            return ""
        key = WHY_NOT.get(refusal.key)
        why = t(key) if key else t("preferred_why_rule", reason=t(refusal.key, **refusal.params))
    return t("preferred_not_first", name=user.name or user.platform_id, why=why)


def register(router: Router) -> None:
    router.dx_command("experts", experts_command)
