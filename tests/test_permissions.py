"""What each role may see and do (bot/permissions.py, the one place that decides)."""

from __future__ import annotations

import pytest

from bot.core.catalog import t
from bot.core.errors import UserError
from bot.core.permissions import (
    Action,
    Actor,
    Role,
    can,
    case_scope,
    may_see_case,
    may_see_personal_data,
    require,
    role_label,
)
from store.scope import EVERYTHING, Scope
from tests.conftest import ChatBot

OF, E, S, P, A = Role.OFFICER, Role.EXPERT, Role.STAFF, Role.PREFECTURE, Role.ADMIN

# Who may do what, from PRODUCT.md: officers open and withdraw their consultations and answer
# surveys; experts write reports; staff run the desk; the prefecture reads everything and
# approves matches; admins may do everything.
ALLOWED: dict[Action, set[Role]] = {
    Action.OPEN_CASE: {OF, S, A},
    Action.WITHDRAW_CASE: {OF, S, A},
    Action.CHANGE_STATUS: {S, A},
    Action.MATCH: {S, A},
    Action.SCHEDULE: {S, A},
    Action.APPROVE_MATCH: {P, A},
    Action.WRITE_REPORT: {E, A},
    Action.ANSWER_SURVEY: {OF, A},
    Action.VIEW_PROGRAM_STATUS: {S, P, A},
    Action.VIEW_OWN_STATUS: {OF, E, S, P, A},
    Action.EXPORT: {S, P, A},
    Action.DECK: {OF, S, P, A},
    Action.ASK_CALENDAR: {OF, E, S, P, A},
    Action.MANAGE_USERS: {A},
    Action.VIEW_ROSTER: {S, P, A},
    Action.OPEN_CASE_ON_BEHALF: {P, A},
    Action.RECORD_ENGAGEMENT: {S, A},  # staff keep the engagement; others may read it
}


def actor(role: Role, *, user_id: int = 1, municipality: str | None = None) -> Actor:
    return Actor(
        user_id=user_id,
        platform="slack",
        platform_id=f"U{user_id}",
        role=role,
        municipality_code=municipality,
    )


def test_every_action_is_decided() -> None:
    assert set(ALLOWED) == set(Action)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_role_action_table(role: Role, action: Action) -> None:
    who = actor(role, municipality="111007" if role is OF else None)
    expected = role in ALLOWED[action]
    assert can(who, action) is expected
    if expected:
        require(who, action)
    else:
        with pytest.raises(UserError) as refused:
            require(who, action)
        assert refused.value.render() == t("forbidden", role=role_label(role))
        assert role_label(role) in refused.value.render()


@pytest.mark.parametrize(
    ("who", "scope"),
    [
        (actor(OF, municipality="111007"), Scope(municipality_code="111007")),
        (actor(OF, municipality=None), Scope(municipality_code="-")),  # sees nothing
        (actor(E, user_id=42), Scope(expert_user_id=42)),
        (actor(S), EVERYTHING),
        (actor(P), EVERYTHING),
        (actor(A), EVERYTHING),
    ],
    ids=["officer", "officer-without-municipality", "expert", "staff", "prefecture", "admin"],
)
def test_case_scope(who: Actor, scope: Scope) -> None:
    assert case_scope(who) == scope


@pytest.mark.parametrize(
    ("who", "municipalities", "experts", "visible"),
    [
        (actor(OF, municipality="111007"), {"112011"}, {7}, False),  # another municipality
        (actor(OF, municipality="111007"), {"111007"}, {7}, True),
        (actor(OF, municipality="111007"), {"112011", "111007"}, set(), True),  # joint session
        (actor(OF, municipality=None), {"111007"}, set(), False),
        (actor(E, user_id=7), {"111007"}, {8}, False),  # expert not assigned
        (actor(E, user_id=7), {"111007"}, {8, 7}, True),
        (actor(E, user_id=7), {"111007"}, set(), False),
        (actor(P), {"112011"}, set(), True),
        (actor(S), {"112011"}, set(), True),
        (actor(A), set(), set(), True),
    ],
)
def test_may_see_case(
    who: Actor, municipalities: set[str], experts: set[int], visible: bool
) -> None:
    assert may_see_case(who, municipalities, experts) is visible


@pytest.mark.parametrize(
    ("role", "visible"), [(OF, False), (E, False), (S, True), (P, True), (A, True)]
)
def test_personal_data_only_for_desk_and_prefecture(role: Role, visible: bool) -> None:
    assert may_see_personal_data(actor(role)) is visible


def test_every_role_has_a_japanese_label() -> None:
    labels = {r: role_label(r) for r in Role}
    assert labels[OF] == "市町村職員" and labels[P] == "県職員"
    assert len(set(labels.values())) == len(Role)


# --- handlers ask the same place ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "role"),
    [("officer1", OF), ("expert1", E), ("staff1", S), ("pref1", P), ("admin1", A)],
)
async def test_due_command_follows_the_table(bot: ChatBot, user: str, role: Role) -> None:
    replies = await bot.say(user, "/dx due 2026-12-25")
    if role in ALLOWED[Action.ASK_CALENDAR]:
        assert "2027年1月7日(木)" in replies[0].text
    else:
        assert [r.text for r in replies] == [t("forbidden", role=role_label(role))]
