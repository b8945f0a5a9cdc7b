"""The one place that decides what each role may see and do. Every handler asks it.

Officers see only their municipality; experts only their assignments; staff run the desk;
prefecture staff see everything (read) and approve matches where the program requires it;
admins manage people and reference data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.core.errors import UserError
from store.scope import EVERYTHING, Scope


class Role(StrEnum):
    OFFICER = "officer"
    EXPERT = "expert"
    STAFF = "staff"
    PREFECTURE = "prefecture"
    ADMIN = "admin"


class Action(StrEnum):
    OPEN_CASE = "open_case"
    WITHDRAW_CASE = "withdraw_case"
    CHANGE_STATUS = "change_status"
    MATCH = "match"
    SCHEDULE = "schedule"
    APPROVE_MATCH = "approve_match"
    WRITE_REPORT = "write_report"
    ANSWER_SURVEY = "answer_survey"
    VIEW_PROGRAM_STATUS = "view_program_status"
    VIEW_OWN_STATUS = "view_own_status"
    EXPORT = "export"
    DECK = "deck"
    ASK_CALENDAR = "ask_calendar"
    MANAGE_USERS = "manage_users"
    # The expert roster with domains and strengths (`/dx experts`); officers see it only where
    # the program profile allows (see may_view_roster).
    VIEW_ROSTER = "view_roster"
    # Open a consultation for a municipality's officer, where the profile routes consultations
    # via the prefecture (Kumamoto §2.3(1)).
    OPEN_CASE_ON_BEHALF = "open_case_on_behalf"
    # Record or edit a case's engagement (theme, goal, scope, …; handlers/engagements.py);
    # reading it goes with seeing the case.
    RECORD_ENGAGEMENT = "record_engagement"


_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.OFFICER: frozenset(
        {
            Action.OPEN_CASE,
            Action.WITHDRAW_CASE,
            Action.ANSWER_SURVEY,
            Action.VIEW_OWN_STATUS,
            Action.DECK,
            Action.ASK_CALENDAR,  # 開庁日 are public knowledge; officers plan around them too
        }
    ),
    Role.EXPERT: frozenset({Action.WRITE_REPORT, Action.VIEW_OWN_STATUS, Action.ASK_CALENDAR}),
    Role.STAFF: frozenset(
        {
            Action.OPEN_CASE,
            Action.WITHDRAW_CASE,
            Action.CHANGE_STATUS,
            Action.MATCH,
            Action.SCHEDULE,
            Action.VIEW_PROGRAM_STATUS,
            Action.VIEW_OWN_STATUS,
            Action.EXPORT,
            Action.DECK,
            Action.ASK_CALENDAR,
            Action.VIEW_ROSTER,
            Action.RECORD_ENGAGEMENT,
        }
    ),
    Role.PREFECTURE: frozenset(
        {
            Action.APPROVE_MATCH,
            Action.VIEW_PROGRAM_STATUS,
            Action.VIEW_OWN_STATUS,
            Action.EXPORT,
            Action.DECK,
            Action.ASK_CALENDAR,
            Action.VIEW_ROSTER,
            Action.OPEN_CASE_ON_BEHALF,
        }
    ),
    Role.ADMIN: frozenset(Action),
}


class RegisteredUser(Protocol):
    """What an Actor is made from (store.models.User), without the core importing the store."""

    id: int
    platform: str
    platform_id: str
    role: str
    name: str
    municipality_code: str | None


@dataclass(frozen=True)
class Actor:
    """Who is acting: a registered user as the core sees them (no platform detail)."""

    user_id: int
    platform: str
    platform_id: str
    role: Role
    name: str = ""
    municipality_code: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.platform_id

    @classmethod
    def of_user(cls, user: RegisteredUser) -> Actor:
        return cls(
            user_id=user.id,
            platform=user.platform,
            platform_id=user.platform_id,
            role=Role(user.role),
            name=user.name,
            municipality_code=user.municipality_code,
        )


def can(actor: Actor, action: Action) -> bool:
    return action in _ALLOWED[actor.role]


def require(actor: Actor, action: Action) -> None:
    if not can(actor, action):
        raise UserError("forbidden", role=role_label(actor.role))


def case_scope(actor: Actor) -> Scope:
    """Rows of cases, sessions and reports an actor may see."""
    if actor.role in (Role.STAFF, Role.PREFECTURE, Role.ADMIN):
        return EVERYTHING
    if actor.role is Role.OFFICER:
        return Scope(municipality_code=actor.municipality_code or "-")
    return Scope(expert_user_id=actor.user_id)


def may_see_case(actor: Actor, municipality_codes: set[str], expert_user_ids: set[int]) -> bool:
    scope = case_scope(actor)
    if scope.everything:
        return True
    if scope.municipality_code is not None:
        return scope.municipality_code in municipality_codes
    return scope.expert_user_id in expert_user_ids


def may_view_roster(actor: Actor, *, officers_allowed: bool) -> bool:
    """The desk and the prefecture always see the roster; officers where the program lets
    municipalities choose from it (Miyazaki ②, Saitama §6(3)), and then only listed experts."""
    return can(actor, Action.VIEW_ROSTER) or (officers_allowed and actor.role is Role.OFFICER)


def require_view_roster(actor: Actor, *, officers_allowed: bool) -> None:
    if not may_view_roster(actor, officers_allowed=officers_allowed):
        raise UserError("forbidden", role=role_label(actor.role))


def may_see_roster_contacts(actor: Actor, *, officers_see_contacts: bool) -> bool:
    """Experts' contact details: the desk and the prefecture arrange sessions and see them;
    officers only where the profile says the roster shows them."""
    return can(actor, Action.VIEW_ROSTER) or (officers_see_contacts and actor.role is Role.OFFICER)


def may_see_personal_data(actor: Actor) -> bool:
    """Names and titles of requesters are shown only to the desk and the prefecture."""
    return actor.role in (Role.STAFF, Role.PREFECTURE, Role.ADMIN)


ROLE_LABELS = {
    Role.OFFICER: "市町村職員",
    Role.EXPERT: "専門人材",
    Role.STAFF: "事務局",
    Role.PREFECTURE: "県職員",
    Role.ADMIN: "管理者",
}


def role_label(role: Role) -> str:
    return ROLE_LABELS[role]
