"""Help per role lists exactly the commands that role can run (issue 19, done-when 3): the help
of each role is compared with the permission table (bot/core/permissions.py), and every command
it names is one the router knows."""

from __future__ import annotations

import re

import pytest

from bot.core.permissions import Action, Actor, Role, can
from handlers.help import HELP_LINES, command_lines
from tests.conftest import ChatBot

PEOPLE = {
    Role.OFFICER: "officer1",
    Role.EXPERT: "expert1",
    Role.STAFF: "staff1",
    Role.PREFECTURE: "pref1",
    Role.ADMIN: "admin1",
}
QUOTED = re.compile(r"「(/[a-z]+(?: [a-z]+)?)")


def _may(role: Role, action: Action) -> bool:
    return can(Actor(user_id=0, platform="", platform_id="", role=role), action)


@pytest.mark.parametrize("role", list(Role))
async def test_help_lists_exactly_the_commands_the_role_may_run(bot: ChatBot, role: Role) -> None:
    (reply,) = await bot.say(PEOPLE[role], "/dx help")
    text = reply.text
    for _key, commands, action in HELP_LINES:
        for command in commands:
            if _may(role, action):
                assert f"「{command}" in text, (role, command)
            elif not any(command in cmds and _may(role, a) for _k, cmds, a in HELP_LINES):
                assert f"「{command}" not in text, (role, command)


@pytest.mark.parametrize("role", list(Role))
async def test_every_command_in_the_help_is_one_the_router_knows(bot: ChatBot, role: Role) -> None:
    router = bot.services.router  # type: ignore[attr-defined]
    (reply,) = await bot.say(PEOPLE[role], "/dx help")
    for quoted in QUOTED.findall(reply.text):
        name, _, sub = quoted.partition(" ")
        if name == "/dx":
            assert sub in router.dx, (role, quoted)
        else:
            assert name in router.commands, (role, quoted)


def test_the_roles_named_in_the_issue_are_told_their_commands() -> None:
    staff = {c for _, cmds in command_lines(Role.STAFF) for c in cmds}
    assert {"/dx schedule", "/dx track", "/dx hold", "/dx resume", "/dx close"} <= staff
    assert "/dx casebook" in staff
    prefecture = {c for _, cmds in command_lines(Role.PREFECTURE) for c in cmds}
    assert {"/dx approve", "/dx reject"} <= prefecture
    admin = {c for _, cmds in command_lines(Role.ADMIN) for c in cmds}
    assert "/dx users" not in admin  # no such chat command: the CLI manages people


async def test_admin_help_does_not_offer_dx_users(bot: ChatBot) -> None:
    (reply,) = await bot.say("admin1", "/dx help")
    assert "/dx users" not in reply.text
    assert "dxbot users" in reply.text
