"""The `dxbot` command line (the interface contract in ARCHITECTURE.md).

Every expected failure is one English sentence on stderr and a non-zero exit; only ``main``
exits the process.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import io
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import ValidationError

from bot.app import Services, build_services, ensure_program, ensure_schema
from bot.core import logs
from bot.core.config import Settings
from bot.core.errors import CliError
from bot.demo import seed_with_demo
from reminders.calendar import BusinessCalendar
from reminders.clock import JST, FixedClock, SystemClock
from store import reference, users
from store.db import Database, DatabaseError
from store.profiles import PROGRAM_IDS, ProfileError, ProgramProfile, load_profile

log = logging.getLogger("dxbot.cli")

Command = Callable[[argparse.Namespace, Settings], Awaitable[int]]


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CliError(f"Setting {first['loc'][0]} is invalid: {first['msg']}.") from exc


def _services(settings: Settings, args: argparse.Namespace) -> Services:
    program = getattr(args, "program", None)
    if program:
        settings = settings.model_copy(update={"program": program})
    now = getattr(args, "now", None)
    clock = FixedClock(_parse_datetime(now)) if now else SystemClock()
    return build_services(settings, clock=clock)


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CliError(f"{text!r} is not a date; use YYYY-MM-DD.") from exc


def _parse_datetime(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise CliError(
            f"{text!r} is not a date and time; use ISO 8601, e.g. 2026-12-03T14:00."
        ) from exc
    return value.replace(tzinfo=JST) if value.tzinfo is None else value


# --- db, seed --------------------------------------------------------------------------------


async def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from store.migrate import upgrade

    db = Database(settings.database_url)
    try:
        await db.check()
        await upgrade(db.engine)
    finally:
        await db.dispose()
    print("Database is at the latest schema.")
    return 0


async def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    profile = load_profile(args.program)
    services = _services(settings, args)
    try:
        await ensure_schema(services.db, auto=False)
        async with services.db.transaction() as s:
            result = await seed_with_demo(s, profile, services.clock.now(), demo=args.demo)
    finally:
        await services.db.dispose()
    print(
        f"Program {result.program_id} loaded ({result.municipalities_added} municipalities added)."
        + (
            f" Demo data: {result.demo_people} people, {result.demo_cases} cases."
            if args.demo
            else ""
        )
    )
    return 0


# --- users and experts -------------------------------------------------------------------------


async def _municipality_code(
    s: object, text: str | None, profile: ProgramProfile | None = None
) -> str | None:
    """A municipality by name or code; within the program's prefecture when one is given."""
    if not text:
        return None
    prefecture = profile.prefecture_code if profile is not None else None
    found = await reference.resolve_municipality(s, text, prefecture)  # type: ignore[arg-type]
    if not found and profile is not None:
        elsewhere = await reference.resolve_municipality(s, text)  # type: ignore[arg-type]
        if elsewhere:
            where = ", ".join(f"{m.prefecture_name}{m.name} ({m.code})" for m in elsewhere)
            raise CliError(
                f"{text!r} is {where}, outside {profile.prefecture}; program {profile.id} "
                f"covers the municipalities of {profile.prefecture} only."
            )
    if not found:
        raise CliError(
            f"No municipality {text!r} is loaded; give its name (さいたま市) or its 5/6-digit "
            "code, after `dxbot seed --program ID`."
        )
    if len(found) > 1:
        names = ", ".join(f"{m.prefecture_name}{m.name} ({m.code})" for m in found)
        raise CliError(f"{text!r} matches several municipalities: {names}; give the code.")
    return found[0].code


async def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    services = _services(settings, args)
    try:
        await ensure_schema(services.db, auto=False)
        async with services.db.transaction() as s:
            code = await _municipality_code(s, args.municipality)
            try:
                user = await users.add(
                    s,
                    platform=args.platform,
                    platform_id=args.platform_id,
                    role=args.role,
                    now=services.clock.now(),
                    municipality_code=code,
                    name=args.name or "",
                    title=args.title or "",
                )
            except users.UserStoreError as exc:
                raise CliError(str(exc)) from exc
    finally:
        await services.db.dispose()
    print(f"Added {user.platform_id} ({user.platform}) as {user.role}.")
    return 0


async def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    services = _services(settings, args)
    try:
        await ensure_schema(services.db, auto=False)
        async with services.db.transaction() as s:
            rows = await users.list_users(s, args.role)
    finally:
        await services.db.dispose()
    print("platform_id\tplatform\trole\tname\ttitle\tmunicipality")
    for r in rows:
        u = r.user
        print(
            f"{u.platform_id}\t{u.platform}\t{u.role}\t{u.name}\t{u.title}\t{r.municipality_name}"
        )
    return 0


async def cmd_users_remove(args: argparse.Namespace, settings: Settings) -> int:
    services = _services(settings, args)
    try:
        await ensure_schema(services.db, auto=False)
        async with services.db.transaction() as s:
            n = await users.remove(s, args.platform, args.platform_id)
    finally:
        await services.db.dispose()
    if n == 0:
        raise CliError(f"No active user {args.platform_id!r}; see `dxbot users list`.")
    print(f"Removed {args.platform_id}.")
    return 0


TRUE_WORDS = {"1", "true", "yes", "y", "はい", "可", "○", "◯", "有"}
FALSE_WORDS = {"", "0", "false", "no", "n", "いいえ", "不可", "×", "無"}
EXPERT_COLUMNS = ("platform_id", "name", "domains")


def _bool_cell(value: str, line: int, column: str) -> bool:
    v = value.strip().lower()
    if v in TRUE_WORDS:
        return True
    if v in FALSE_WORDS:
        return False
    raise CliError(f"Line {line}, column {column}: {value!r} is not yes/no (use true/false).")


def _list_cell(value: str) -> list[str]:
    for sep in ("；", ";", "、", "|", "/"):
        value = value.replace(sep, ";")
    return [v.strip() for v in value.split(";") if v.strip()]


def _roster_rows(reader: csv.DictReader[str], path: Path) -> list[tuple[int, dict[str, str]]]:
    """Every row, checked for shape before anything is written: a quote left open or a row
    with more or fewer cells than the header is refused with its line number."""
    rows: list[tuple[int, dict[str, str]]] = []
    width = len(reader.fieldnames or [])
    try:
        for row in reader:
            extra = len(row.pop(None, None) or [])  # type: ignore[call-overload]
            cells = width + extra - sum(v is None for v in row.values())
            if cells != width:
                raise CliError(
                    f"{path}, line {reader.line_num}: {cells} cells where the header has "
                    f"{width}; check for a missing or extra comma, or quote cells with commas."
                )
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise CliError(
            f"{path}, after line {reader.line_num}: {exc}; check that every quote is closed."
        ) from exc
    return rows


async def cmd_experts_import(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CliError(f"Cannot read {path}: {exc.strerror}.") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp932")  # CSV saved by Japanese Excel
        except UnicodeDecodeError as exc:
            raise CliError(f"{path} is neither UTF-8 nor Shift_JIS text.") from exc
    reader = csv.DictReader(io.StringIO(text), strict=True)
    missing = [c for c in EXPERT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CliError(
            f"{path} lacks the column(s) {', '.join(missing)}; expected header: platform_id,name,"
            "domains,qualifications,onsite,region,consent,platform,availability,strengths."
        )
    rows = _roster_rows(reader, path)
    services = _services(settings, args)
    count = 0
    try:
        await ensure_schema(services.db, auto=False)
        async with services.db.transaction() as s:
            for line, row in rows:
                pid = (row.get("platform_id") or "").strip()
                if not pid:
                    raise CliError(f"Line {line}: platform_id is empty.")
                platform = (row.get("platform") or "slack").strip() or "slack"
                existing = await users.get_by_platform_id(s, platform, pid)
                if existing is not None and existing.role != "expert":
                    raise CliError(
                        f"Line {line}: {pid} is already registered as {existing.role}; "
                        "remove that user first or use another id."
                    )
                try:
                    user = await users.add(
                        s,
                        platform=platform,
                        platform_id=pid,
                        role="expert",
                        now=services.clock.now(),
                        name=(row.get("name") or "").strip(),
                        email=(row.get("email") or "").strip(),
                        update=True,
                    )
                except users.UserStoreError as exc:
                    raise CliError(f"Line {line}: {exc}") from exc
                await users.upsert_expert_profile(
                    s,
                    user,
                    domains=_list_cell(row.get("domains") or ""),
                    qualifications=_list_cell(row.get("qualifications") or ""),
                    onsite=_bool_cell(row.get("onsite") or "", line, "onsite"),
                    region=(row.get("region") or "").strip(),
                    consent_listed=_bool_cell(row.get("consent") or "", line, "consent"),
                    availability=(row.get("availability") or "").strip(),
                    strengths=(row.get("strengths") or "").strip(),
                )
                count += 1
    finally:
        await services.db.dispose()
    print(f"Imported {count} experts from {path}.")
    return 0


async def cmd_experts_list(args: argparse.Namespace, settings: Settings) -> int:
    services = _services(settings, args)
    try:
        await ensure_schema(services.db, auto=False)
        async with services.db.transaction() as s:
            rows = await users.list_experts(s)
    finally:
        await services.db.dispose()
    print("platform_id\tname\tdomains\tqualifications\tonsite\tregion\tconsent\tsessions")
    for r in rows:
        p = r.expert
        assert p is not None
        print(
            f"{r.user.platform_id}\t{r.user.name}\t{';'.join(p.domains)}\t"
            f"{';'.join(p.qualifications)}\t{'yes' if p.onsite else 'no'}\t{p.region}\t"
            f"{'yes' if p.consent_listed else 'no'}\t{r.dispatches}"
        )
    return 0


# --- calendar ----------------------------------------------------------------------------------


def _calendar(settings: Settings, program: str | None) -> tuple[BusinessCalendar, int]:
    profile = load_profile(program or settings.program)
    return BusinessCalendar(profile.closed_days), profile.default_track.report_open_days


async def cmd_calendar_due(args: argparse.Namespace, settings: Settings) -> int:
    cal, default_days = _calendar(settings, args.program)
    days = args.days if args.days is not None else default_days
    if days < 1:
        raise CliError("--days must be 1 or more.")
    print(cal.add_open_days(_parse_date(args.from_date), days).isoformat())
    return 0


async def cmd_calendar_open_days(args: argparse.Namespace, settings: Settings) -> int:
    cal, _ = _calendar(settings, args.program)
    start, end = _parse_date(args.from_date), _parse_date(args.to_date)
    if end < start:
        raise CliError("TO is before FROM; give the earlier date first.")
    for d in cal.open_days_between(start, end):
        print(d.isoformat())
    return 0


# --- sessions ----------------------------------------------------------------------------------


async def cmd_sessions_add(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import system_context
    from bot.core.errors import UserError
    from handlers.scheduling import SessionRequest, approval_skipped, schedule_session
    from store import cases as case_store

    services = _services(settings, args)
    try:
        await ensure_schema(services.db, auto=False)
        async with services.db.transaction() as s:
            ctx = system_context(services, s)
            case = await case_store.get_by_no(s, args.case)
            if case is None or case.program_id != services.profile.id:
                raise CliError(
                    f"Case {args.case} does not exist in program {services.profile.id}; "
                    "check the id or set DXBOT_PROGRAM."
                )
            experts = []
            for pid in args.expert:
                found = [u for u in await users.find_by_platform_id(s, pid) if u.role == "expert"]
                if not found:
                    raise CliError(f"No registered expert {pid!r}; see `dxbot experts list`.")
                experts.append(found[0].id)
            codes = [
                c
                for c in [
                    await _municipality_code(s, m, services.profile) for m in args.municipality
                ]
                if c
            ]
            try:
                session = await schedule_session(
                    ctx,
                    SessionRequest(
                        case=case,
                        expert_user_ids=experts,
                        starts_at=_parse_datetime(args.start),
                        hours=args.hours,
                        method=args.method,
                        place=args.place or "",
                        extra_municipality_codes=[c for c in codes if c != case.municipality_code],
                    ),
                )
            except UserError as exc:
                raise CliError(exc.render(lang="en")) from exc
            session_id, due = session.id, session.report_due
            unapproved = approval_skipped(services.profile, case, experts)
    finally:
        await services.db.dispose()
    print(f"Scheduled session {session_id} for {args.case}; report due {due.isoformat()}.")
    if unapproved:
        print(
            f"Warning: in program {services.profile.id} the prefecture approves the expert of a "
            f"case, and {args.case} has no approved match with {', '.join(args.expert)}; ask "
            "the prefecture to confirm (/dx approve in the chat).",
            file=sys.stderr,
        )
    return 0


# --- reminders ---------------------------------------------------------------------------------


async def cmd_remind(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import expire_conversations, remind_once
    from bot.runtime import make_sender

    services = _services(settings, args)
    try:
        await ensure_schema(services.db, auto=False)
        expired = await expire_conversations(services)
        report = await remind_once(services)
        sender = make_sender(services, sys.stdout)
        delivery = await services.deliverer(sender, settings.platform).deliver_due(limit=1000)
    finally:
        await services.db.dispose()
    for line in report.sent:
        print(f"queued: {line}")
    print(
        f"Reminder pass at {services.clock.now().isoformat()}: {report.ended} sessions ended, "
        f"{len(report.sent)} pings queued, {report.collapsed} missed steps collapsed, "
        f"{expired} conversations expired; delivered {delivery.delivered}, "
        f"failed {delivery.failed} (kept in the outbox for retry)."
    )
    return 0 if delivery.failed == 0 else 1


# --- chat --------------------------------------------------------------------------------------


async def _console(args: argparse.Namespace, settings: Settings, *, seed_demo: bool) -> int:
    from bot.adapters.console import ConsoleAdapter

    if "DXBOT_LOG_LEVEL" not in os.environ:
        # The console is a conversation on the terminal: log lines would drown it.
        logs.configure("WARNING")
    services = _services(settings, args)
    try:
        await ensure_schema(services.db, auto=services.db.dialect == "sqlite")
        await ensure_program(services, demo=seed_demo)
        adapter = ConsoleAdapter(
            services, files_dir=Path(args.files_dir) if args.files_dir else None
        )
        if getattr(args, "script", None):
            try:
                lines = Path(args.script).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise CliError(f"Cannot read script {args.script}: {exc.strerror}.") from exc
            return await adapter.run_script(lines)
        who = getattr(args, "as_user", None) or await adapter.default_user()
        await adapter.resolve_user(who)
        return await adapter.run_interactive(who, sys.stdin, sys.stdin.isatty())
    finally:
        await services.db.dispose()


async def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    return await _console(args, settings, seed_demo=True)


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.platform != "console":
        from bot.server import serve

        return await serve(
            settings,
            adapter=settings.platform,
            host=args.host,
            port=args.port,
            socket_mode=settings.slack_app_token is not None,
        )
    args.as_user = None
    args.script = None
    return await _console(args, settings, seed_demo=True)


async def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.server import serve

    return await serve(
        settings,
        adapter=args.adapter,
        host=args.host,
        port=args.port,
        socket_mode=args.socket_mode,
        workers=args.workers,
    )


# --- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dxbot", description="Municipal DX support desk bot.")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the bot on whatever is configured")
    run.add_argument("--host", default="0.0.0.0")
    run.add_argument("--port", type=int, default=3000)
    run.add_argument("--files-dir", default="out", help="where the console saves files")
    run.set_defaults(func=cmd_run)

    chat = sub.add_parser("chat", help="the console adapter")
    chat.add_argument("--as", dest="as_user", metavar="PLATFORM_ID")
    chat.add_argument("--script", metavar="FILE")
    chat.add_argument("--program", choices=PROGRAM_IDS)
    chat.add_argument("--now", metavar="ISO-8601", help="pretend it is this time (demos, tests)")
    chat.add_argument("--files-dir", default="out", help="where decks and exports are saved")
    chat.set_defaults(func=cmd_chat)

    serve = sub.add_parser("serve", help="HTTP server for Slack or LoGo Chat")
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
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate to the latest schema").set_defaults(
        func=cmd_db_upgrade
    )

    seed = sub.add_parser("seed", help="load a program profile")
    seed.add_argument("--program", required=True, choices=PROGRAM_IDS)
    seed.add_argument("--demo", action="store_true", help="also add demo people and history")
    seed.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)
    seed.set_defaults(func=cmd_seed)

    u = sub.add_parser("users", help="people and roles")
    u_sub = u.add_subparsers(dest="users_command", required=True)
    ua = u_sub.add_parser("add")
    ua.add_argument("platform_id", metavar="PLATFORM_ID")
    ua.add_argument("--role", required=True, choices=users.ROLES)
    ua.add_argument("--platform", default="slack", choices=users.PLATFORMS)
    ua.add_argument("--municipality", metavar="NAME_OR_CODE")
    ua.add_argument("--name")
    ua.add_argument("--title")
    ua.set_defaults(func=cmd_users_add)
    ul = u_sub.add_parser("list")
    ul.add_argument("--role", choices=users.ROLES)
    ul.set_defaults(func=cmd_users_list)
    ur = u_sub.add_parser("remove")
    ur.add_argument("platform_id", metavar="PLATFORM_ID")
    ur.add_argument("--platform", choices=users.PLATFORMS)
    ur.set_defaults(func=cmd_users_remove)

    e = sub.add_parser("experts", help="the expert roster")
    e_sub = e.add_subparsers(dest="experts_command", required=True)
    ei = e_sub.add_parser("import")
    ei.add_argument("file", metavar="FILE.csv")
    ei.set_defaults(func=cmd_experts_import)
    e_sub.add_parser("list").set_defaults(func=cmd_experts_list)

    rm = sub.add_parser("remind", help="run one reminder pass and deliver what is due")
    rm.add_argument("--now", metavar="ISO-8601")
    rm.add_argument("--program", choices=PROGRAM_IDS)
    rm.set_defaults(func=cmd_remind)

    ss = sub.add_parser("sessions", help="sessions")
    ss_sub = ss.add_subparsers(dest="sessions_command", required=True)
    sa = ss_sub.add_parser("add", help="schedule a session (same rules as the chat)")
    sa.add_argument("--case", required=True, metavar="CASE_ID")
    sa.add_argument("--expert", required=True, action="append", metavar="PLATFORM_ID")
    sa.add_argument("--start", required=True, metavar="ISO-8601")
    sa.add_argument("--hours", required=True, type=float)
    sa.add_argument("--method", required=True, choices=("online", "onsite"))
    sa.add_argument("--place")
    sa.add_argument("--municipality", nargs="*", default=[], metavar="NAME_OR_CODE")
    sa.add_argument("--program", choices=PROGRAM_IDS)
    sa.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)
    sa.set_defaults(func=cmd_sessions_add)

    c = sub.add_parser("calendar", help="開庁日 questions")
    c_sub = c.add_subparsers(dest="calendar_command", required=True)
    cd = c_sub.add_parser("due")
    cd.add_argument("from_date", metavar="FROM")
    cd.add_argument("--days", type=int)
    cd.add_argument("--program", choices=PROGRAM_IDS)
    cd.set_defaults(func=cmd_calendar_due)
    co = c_sub.add_parser("open-days")
    co.add_argument("from_date", metavar="FROM")
    co.add_argument("to_date", metavar="TO")
    co.add_argument("--program", choices=PROGRAM_IDS)
    co.set_defaults(func=cmd_calendar_open_days)

    from bot import cli_reports

    cli_reports.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings()
        logs.configure(settings.log_level)
        return asyncio.run(args.func(args, settings))
    except (CliError, DatabaseError, ProfileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        return 0


if __name__ == "__main__":
    sys.exit(main())
