"""`dxbot db`, `seed`, `users`, `experts`, `sessions` and `calendar` (the interface contract in
ARCHITECTURE.md): setting a program up and keeping its people, roster and sessions.

Expected failures are one English sentence (``CliError``); nothing is written unless the whole
command succeeds (each command is one transaction).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from bot.app import load_program, system_context
from bot.cli_common import cli_services, parse_date, parse_datetime
from bot.core.catalog import t
from bot.core.config import Settings
from bot.core.errors import CliError, UserError
from bot.demo import seed_with_demo
from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from store import programs, reference, users
from store.db import Database, Session
from store.profiles import ProgramProfile
from store.rules import report_due_flag

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
    if args.demo and not args.now:
        # An ended program's demo history is made as of the console's clock inside its term
        # (`dxbot run` on it: bot.cli_run.inside_term), so no demo report dates from after it.
        from bot.cli_run import ended_program_clock

        args.now = ended_program_clock(settings, args.program)
    async with cli_services(settings, args) as services, services.db.transaction() as s:
        result = await seed_with_demo(s, services.profile, services.clock.now(), demo=args.demo)
    demo = f" Demo data: {result.demo_people} people, {result.demo_cases} cases."
    print(
        f"Program {result.program_id} loaded ({result.municipalities_added} municipalities added)."
        + (demo if args.demo else "")
    )
    return 0


# --- users and experts -------------------------------------------------------------------------


async def _municipality_code(
    s: Session, text: str | None, profile: ProgramProfile | None = None
) -> str | None:
    """A municipality by name or code; within the program's prefecture when one is given."""
    if not text:
        return None
    prefecture = profile.prefecture_code if profile is not None else None
    found = await reference.resolve_municipality(s, text, prefecture)
    if not found and profile is not None:
        # the package data, not the database: only the program's prefecture is seeded there
        elsewhere = reference.outside_prefecture(text, profile.prefecture_code)
        if elsewhere:
            if len(elsewhere) == 1:
                m = elsewhere[0]
                where = f"{m.name} ({m.code}) is in {m.prefecture_name}"
            else:  # a name several prefectures use (府中市)
                where = f"{text!r} is " + " or ".join(
                    f"{m.name} ({m.code}) in {m.prefecture_name}" for m in elsewhere
                )
            raise CliError(
                f"{where}, not in {profile.prefecture}, the prefecture of program {profile.id}."
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
    async with cli_services(settings, args) as services, services.db.transaction() as s:
        code = await _municipality_code(s, args.municipality, services.profile)
        program = services.profile.id
        loaded = await programs.get(s, program) is not None
        if getattr(args, "program", None) and not loaded:
            raise CliError(
                f"Program {program} is not loaded; run `dxbot seed --program {program}` first."
            )
        existing = await users.get_by_platform_id(s, args.platform, args.platform_id)
        if getattr(args, "program", None) and existing is not None and existing.role == args.role:
            # The same person in one more program of this deployment (see store.users).
            if not await users.join_program(s, existing, program, services.clock.now()):
                raise CliError(f"{args.platform_id} is already in program {program}.")
            print(f"Added {existing.platform_id} ({existing.platform}) to program {program}.")
            return 0
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
        if loaded:  # a member of the command's program (DXBOT_PROGRAM's, or --program's)
            await users.join_program(s, user, program, services.clock.now())
    where = f" in program {program}" if loaded else ""
    print(f"Added {user.platform_id} ({user.platform}) as {user.role}{where}.")
    return 0


async def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    async with cli_services(settings, args) as services, services.db.transaction() as s:
        # --program: the members of that program only (a deployment may hold several).
        program = services.profile.id if args.program else None
        rows = await users.list_users(s, args.role, program=program)
    print("platform_id\tplatform\trole\tname\ttitle\tmunicipality")
    for r in rows:
        u = r.user
        print(
            f"{u.platform_id}\t{u.platform}\t{u.role}\t{u.name}\t{u.title}\t{r.municipality_name}"
        )
    return 0


async def cmd_users_remove(args: argparse.Namespace, settings: Settings) -> int:
    async with cli_services(settings, args) as services, services.db.transaction() as s:
        n = await users.remove(
            s, args.platform, args.platform_id, now=services.clock.now(), actor="cli"
        )
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


def _roster_text(path: Path) -> str:
    """The file as text: UTF-8 (with or without a BOM), else Shift_JIS as Japanese Excel saves."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CliError(f"Cannot read {path}: {exc.strerror}.") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp932")
        except UnicodeDecodeError as exc:
            raise CliError(f"{path} is neither UTF-8 nor Shift_JIS text.") from exc


def _roster_rows(reader: csv.DictReader[str], path: Path) -> list[tuple[int, dict[str, str]]]:
    """Every row, checked for shape before anything is written: a quote left open or a row
    with more or fewer cells than the header is refused with its line number."""
    rows: list[tuple[int, dict[str, str]]] = []
    width = len(reader.fieldnames or [])
    try:
        for row in reader:
            extra = len(row.pop(None, None) or [])
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
    reader = csv.DictReader(io.StringIO(_roster_text(path)), strict=True)
    missing = [c for c in EXPERT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CliError(
            f"{path} lacks the column(s) {', '.join(missing)}; expected header: platform_id,name,"
            "domains,qualifications,onsite,region,consent,platform,availability,strengths."
        )
    rows = _roster_rows(reader, path)
    async with (
        cli_services(settings, args, program_loaded=bool(args.program)) as services,
        services.db.transaction() as s,
    ):
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
            if args.program:  # the roster of that program (a deployment may hold several)
                await users.join_program(s, user, services.profile.id, services.clock.now())
    print(f"Imported {len(rows)} experts from {path}.")
    return 0


async def cmd_experts_list(args: argparse.Namespace, settings: Settings) -> int:
    async with cli_services(settings, args) as services, services.db.transaction() as s:
        rows = await users.list_experts(s)
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


# --- calendar (no database: a question about dates) -------------------------------------------


def _calendar(settings: Settings, program: str | None) -> tuple[BusinessCalendar, int]:
    profile = load_program(settings, program)
    return BusinessCalendar(profile.closed_days), profile.default_track.report_open_days


async def cmd_calendar_due(args: argparse.Namespace, settings: Settings) -> int:
    cal, default_days = _calendar(settings, args.program)
    days = args.days if args.days is not None else default_days
    if days < 1:
        raise CliError("--days must be 1 or more.")
    print(cal.add_open_days(parse_date(args.from_date), days).isoformat())
    return 0


async def cmd_calendar_open_days(args: argparse.Namespace, settings: Settings) -> int:
    cal, _ = _calendar(settings, args.program)
    start, end = parse_date(args.from_date), parse_date(args.to_date)
    if end < start:
        raise CliError("TO is before FROM; give the earlier date first.")
    for d in cal.open_days_between(start, end):
        print(d.isoformat())
    return 0


# --- sessions ----------------------------------------------------------------------------------


async def cmd_sessions_add(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.scheduling import SessionRequest, approval_skipped, schedule_session
    from store import cases as case_store

    async with cli_services(settings, args) as services, services.db.transaction() as s:
        profile = services.profile
        case = await case_store.get_by_no(s, args.case)
        if case is None or case.program_id != profile.id:
            raise CliError(
                f"Case {args.case} does not exist in program {profile.id}; "
                "check the id or set DXBOT_PROGRAM."
            )
        experts = []
        for pid in args.expert:
            found = [u for u in await users.find_by_platform_id(s, pid) if u.role == "expert"]
            if not found:
                raise CliError(f"No registered expert {pid!r}; see `dxbot experts list`.")
            experts.append(found[0].id)
        codes = [await _municipality_code(s, m, profile) for m in args.municipality]
        try:
            session = await schedule_session(
                system_context(services, s),
                SessionRequest(
                    case=case,
                    expert_user_ids=experts,
                    starts_at=parse_datetime(args.start),
                    hours=args.hours,
                    method=args.method,
                    place=args.place or "",
                    extra_municipality_codes=[
                        c for c in codes if c and c != case.municipality_code
                    ],
                ),
            )
        except UserError as exc:
            raise CliError(exc.render(lang="en")) from exc
        session_id, due = session.id, session.report_due
        held = session.status == "done"  # an answer recorded after it was given
        unapproved = approval_skipped(profile, case, experts)
    if held:
        print(
            f"Recorded session {session_id} for {args.case} as held; the expert is asked for "
            f"the report, due {due.isoformat()}."
        )
        if due < services.clock.now().astimezone(JST).date():
            print(f"Warning: the report due date {due.isoformat()} has passed.", file=sys.stderr)
    else:
        print(f"Scheduled session {session_id} for {args.case}; report due {due.isoformat()}.")
    late = report_due_flag(profile, due)
    if late is not None:  # due after the last day of service: say so, the session stands
        print(t(late.key, lang="en", **late.params), file=sys.stderr)
    if unapproved:
        print(
            f"Warning: in program {profile.id} the prefecture approves the expert of a "
            f"case, and {args.case} has no approved match with {', '.join(args.expert)}; ask "
            "the prefecture to confirm (/dx approve in the chat).",
            file=sys.stderr,
        )
    return 0


def _session_id(args: argparse.Namespace) -> str:
    if args.session_id < 1:
        raise CliError(f"SESSION_ID must be a positive number, not {args.session_id}.")
    return str(args.session_id)


async def cmd_sessions_cancel(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.sessions import cancel_session

    session_id = _session_id(args)
    if not args.reason.strip():
        raise CliError("--reason must not be empty; say why the session is cancelled.")
    async with cli_services(settings, args) as services, services.db.transaction() as s:
        try:
            found = await cancel_session(system_context(services, s), session_id, args.reason)
        except UserError as exc:
            raise CliError(exc.render(lang="en")) from exc
        case_no, start = found.case.case_no, found.session.starts_at.astimezone(JST)
    print(
        f"Cancelled session {session_id} of {case_no} ({start:%Y-%m-%d %H:%M}); it no longer "
        "counts, and its experts and officers are told."
    )
    return 0


async def cmd_sessions_move(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.sessions import move_session

    session_id = _session_id(args)
    start = parse_datetime(args.start)
    async with cli_services(settings, args) as services, services.db.transaction() as s:
        try:
            found = await move_session(system_context(services, s), session_id, start)
        except UserError as exc:
            raise CliError(exc.render(lang="en")) from exc
        case_no = found.case.case_no
        new_start, due = found.session.starts_at.astimezone(JST), found.session.report_due
    print(
        f"Moved session {session_id} of {case_no} to {new_start:%Y-%m-%d %H:%M}; report due "
        f"{due.isoformat()}."
    )
    return 0
