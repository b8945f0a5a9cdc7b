"""The `dxbot` command line (the interface contract in ARCHITECTURE.md): its argument tree and
``main``.

This module is what `dxbot --help` imports, so it imports nothing heavy: each sub-command names
its coroutine as ``"module:function"``, and that module (with SQLAlchemy, pydantic, the handlers
…) is imported only once the arguments are parsed. Every expected failure is one English
sentence on stderr and a non-zero exit; only ``main`` exits the process.
"""

from __future__ import annotations

import argparse
import gc
import sys
from importlib import resources

from bot import cli_data, cli_queue, cli_structure

# Kept here rather than imported from store.users: importing the store loads SQLAlchemy, which
# would cost most of `dxbot --help`. store.users refuses anything else with the same words.
ROLES = ("officer", "expert", "staff", "prefecture", "admin")
PLATFORMS = ("slack", "logo", "console")
# How a session is held (store.profiles.Method; a track lists the ones it accepts).
METHODS = ("online", "onsite", "email", "phone", "chat")


def program_ids() -> list[str]:
    """The shipped programs, from the profile files' names in the package data, for the help
    text. Not argparse ``choices``: a profile in DXBOT_PROFILES_DIR is as good, so the command
    that loads the program checks the id ("Unknown program 'x'. Known programs: …", exit 2)."""
    folder = resources.files("store").joinpath("profiles")
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def _program_option(
    parser: argparse.ArgumentParser, programs: list[str], *, required: bool = False
) -> None:
    parser.add_argument(
        "--program",
        required=required,
        metavar="ID",
        help=f"program id: {', '.join(programs)} or one in DXBOT_PROFILES_DIR",
    )


def _command(parser: argparse.ArgumentParser, handler: str) -> argparse.ArgumentParser:
    """``handler`` is ``"module:coroutine"``, imported only when this command runs."""
    parser.set_defaults(handler=handler)
    return parser


def _add_bot(sub: argparse._SubParsersAction[argparse.ArgumentParser], programs: list[str]) -> None:
    run = _command(
        sub.add_parser("run", help="start the bot on whatever is configured"), "bot.cli_run:cmd_run"
    )
    run.add_argument("--host", default="0.0.0.0")
    run.add_argument("--port", type=int, default=3000)
    run.add_argument("--files-dir", default="out", help="where the console saves files")
    _program_option(run, programs)
    run.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)

    chat = _command(sub.add_parser("chat", help="the console adapter"), "bot.cli_run:cmd_chat")
    chat.add_argument("--as", dest="as_user", metavar="PLATFORM_ID")
    chat.add_argument("--script", metavar="FILE")
    _program_option(chat, programs)
    chat.add_argument("--now", metavar="ISO-8601", help="pretend it is this time (demos, tests)")
    chat.add_argument("--files-dir", default="out", help="where decks and exports are saved")

    serve = _command(
        sub.add_parser("serve", help="HTTP server for Slack or LoGo Chat"), "bot.cli_run:cmd_serve"
    )
    serve.add_argument("--adapter", choices=("slack", "logo"), required=True)
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--socket-mode", action="store_true")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="Slack: worker processes that answer after the ack (0: in the server process)",
    )


def _add_admin(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], programs: list[str]
) -> None:
    db = sub.add_parser("db", help="database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    _command(
        db_sub.add_parser("upgrade", help="migrate to the latest schema"),
        "bot.cli_admin:cmd_db_upgrade",
    )

    seed = _command(sub.add_parser("seed", help="load a program profile"), "bot.cli_admin:cmd_seed")
    _program_option(seed, programs)  # none: DXBOT_PROGRAM, else the demo_default profile
    seed.add_argument("--demo", action="store_true", help="also add demo people and history")
    seed.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)

    u_sub = sub.add_parser("users", help="people and roles").add_subparsers(
        dest="users_command", required=True
    )
    ua = _command(u_sub.add_parser("add"), "bot.cli_admin:cmd_users_add")
    ua.add_argument("platform_id", metavar="PLATFORM_ID")
    ua.add_argument("--role", required=True, choices=ROLES)
    ua.add_argument("--platform", default="slack", choices=PLATFORMS)
    ua.add_argument("--municipality", metavar="NAME_OR_CODE")
    ua.add_argument("--name")
    ua.add_argument("--title")
    _program_option(ua, programs)
    ul = _command(u_sub.add_parser("list"), "bot.cli_admin:cmd_users_list")
    ul.add_argument("--role", choices=ROLES)
    _program_option(ul, programs)
    ur = _command(u_sub.add_parser("remove"), "bot.cli_admin:cmd_users_remove")
    ur.add_argument("platform_id", metavar="PLATFORM_ID")
    ur.add_argument("--platform", choices=PLATFORMS)
    _program_option(ur, programs)

    e_sub = sub.add_parser("experts", help="the expert roster").add_subparsers(
        dest="experts_command", required=True
    )
    ei = _command(e_sub.add_parser("import"), "bot.cli_admin:cmd_experts_import")
    ei.add_argument("file", metavar="FILE.csv")
    _program_option(ei, programs)
    el = _command(e_sub.add_parser("list"), "bot.cli_admin:cmd_experts_list")
    _program_option(el, programs)

    rm = _command(
        sub.add_parser("remind", help="run one reminder pass and deliver what is due"),
        "bot.cli_run:cmd_remind",
    )
    rm.add_argument("--now", metavar="ISO-8601")
    _program_option(rm, programs)

    ss_sub = sub.add_parser("sessions", help="sessions").add_subparsers(
        dest="sessions_command", required=True
    )
    sa = _command(
        ss_sub.add_parser(
            "add", help="schedule a session, or record an e-mail/phone/chat answer already given"
        ),
        "bot.cli_admin:cmd_sessions_add",
    )
    sa.add_argument("--case", required=True, metavar="CASE_ID")
    sa.add_argument("--expert", required=True, action="append", metavar="PLATFORM_ID")
    sa.add_argument("--start", required=True, metavar="ISO-8601")
    sa.add_argument("--hours", required=True, type=float)
    sa.add_argument("--method", required=True, choices=METHODS)
    sa.add_argument("--place")
    sa.add_argument("--municipality", nargs="*", default=[], metavar="NAME_OR_CODE")
    _program_option(sa, programs)
    sa.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)
    sc = _command(
        ss_sub.add_parser("cancel", help="cancel a session (kept in the history, never counted)"),
        "bot.cli_admin:cmd_sessions_cancel",
    )
    sc.add_argument("session_id", metavar="SESSION_ID", type=int)
    sc.add_argument("--reason", required=True)
    _program_option(sc, programs)
    sc.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)
    sm = _command(
        ss_sub.add_parser("move", help="move a session to a new start (same rules as adding)"),
        "bot.cli_admin:cmd_sessions_move",
    )
    sm.add_argument("session_id", metavar="SESSION_ID", type=int)
    sm.add_argument("--start", required=True, metavar="ISO-8601")
    _program_option(sm, programs)
    sm.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)

    c_sub = sub.add_parser("calendar", help="開庁日 questions").add_subparsers(
        dest="calendar_command", required=True
    )
    cd = _command(c_sub.add_parser("due"), "bot.cli_admin:cmd_calendar_due")
    cd.add_argument("from_date", metavar="FROM")
    cd.add_argument("--days", type=int)
    _program_option(cd, programs)
    co = _command(c_sub.add_parser("open-days"), "bot.cli_admin:cmd_calendar_open_days")
    co.add_argument("from_date", metavar="FROM")
    co.add_argument("to_date", metavar="TO")
    _program_option(co, programs)


def _add_programs(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_sub = sub.add_parser(
        "programs", help="program profiles, shipped and in a folder"
    ).add_subparsers(dest="programs_command", required=True)
    _command(
        p_sub.add_parser("list", help="every program this deployment can load"),
        "bot.cli_programs:cmd_programs_list",
    )
    pc = _command(
        p_sub.add_parser("check", help="validate a profile file and summarise its rules"),
        "bot.cli_programs:cmd_programs_check",
    )
    pc.add_argument("file", metavar="FILE")


def _add_reports(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], programs: list[str]
) -> None:
    st = _command(
        sub.add_parser("status", help="the same view as /status"), "bot.cli_reports:cmd_status"
    )
    st.add_argument("--as", dest="as_user", metavar="PLATFORM_ID")
    _program_option(st, programs)
    st.add_argument("--case", metavar="CASE_ID")
    st.add_argument("--json", action="store_true", help="the same view as JSON (see README)")
    st.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)

    ex = _command(
        sub.add_parser("export", help="cases, sessions or reports as CSV, Excel or JSON"),
        "bot.cli_reports:cmd_export",
    )
    ex.add_argument("kind", choices=("cases", "sessions", "reports"))
    ex.add_argument("--format", required=True, choices=("csv", "xlsx", "json"))
    ex.add_argument("--out", metavar="FILE", help="default: standard output")
    _program_option(ex, programs)
    ex.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)

    dk = _command(
        sub.add_parser("deck", help="a PowerPoint deck for a period"), "bot.cli_reports:cmd_deck"
    )
    _program_option(dk, programs)
    dk.add_argument("--from", dest="from_date", metavar="DATE")
    dk.add_argument("--to", dest="to_date", metavar="DATE")
    dk.add_argument("--kind", choices=("summary", "monthly", "completion"), default="summary")
    dk.add_argument("--out", required=True, metavar="FILE.pptx")
    dk.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)

    pl = _command(
        sub.add_parser("plan", help="an engagement's plan document (支援計画書) as Excel"),
        "bot.cli_plan:cmd_plan",
    )
    pl.add_argument("case_id", metavar="CASE_ID")
    pl.add_argument("--out", metavar="FILE.xlsx", help="default: CASE_ID_plan.xlsx here")
    _program_option(pl, programs)
    pl.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)


def _add_web(sub: argparse._SubParsersAction[argparse.ArgumentParser], programs: list[str]) -> None:
    web = _command(
        sub.add_parser("web", help="the read-only web view alone (README 'Web view')"),
        "bot.cli_web:cmd_web",
    )
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=3000)
    _program_option(web, programs)
    web.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)
    link = _command(
        web.add_subparsers(dest="web_command").add_parser(
            "link", help="print a one-time sign-in link (valid 10 minutes)"
        ),
        "bot.cli_web:cmd_web_link",
    )
    link.add_argument("--as", dest="as_user", required=True, metavar="PLATFORM_ID")
    _program_option(link, programs)
    link.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dxbot", description="Municipal DX support desk bot.")
    sub = p.add_subparsers(dest="command", required=True)
    programs = program_ids()
    _add_bot(sub, programs)
    _add_admin(sub, programs)
    _add_programs(sub)
    _add_reports(sub, programs)
    cli_structure.add_parsers(sub, programs, _program_option)  # events, deliverables
    cli_data.add_parsers(sub)  # archive, erase, audit
    _add_web(sub, programs)  # the web view (issue 18)
    cli_queue.add_parser(sub, programs, _program_option)  # queue (issue 20)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bot.cli_common import execute  # the heavy imports start here, after --help

    code = execute(args)
    if argv is None:  # the console script, whose process ends now (tests pass argv)
        # Python's shutdown runs the cycle collector over every object the command loaded
        # (SQLAlchemy, python-pptx, pydantic: ~130,000), a third of a second that frees nothing
        # the operating system would not. Frozen objects are skipped: only garbage in reference
        # cycles is then left unfinalized, and every command has closed its files and its
        # database by now.
        gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(main())
