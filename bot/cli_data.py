"""`dxbot archive`, `dxbot archive verify`, `dxbot erase` and `dxbot audit`: the program's data
at contract end (issue 17; Saitama §10(4): return, then erase).

- archive: everything the program holds as one zip (reports/archive.py), attachments fetched from
  Slack with the bot's token where one is configured (only ever sent to Slack's own hosts);
- archive verify: the manifest's sizes, SHA-256 and row counts against the files (exit 1 when
  anything differs);
- erase: shows what it will erase, asks for the program id again (or takes
  ``--yes-i-have-the-archive FILE``, which must verify and match the program's current rows), erases
  (store/erasure.py), compacts the database files and prints the erasure record;
- audit: the audit trail, filtered by case, dates and program, as lines or JSON.

Exit codes: 0 done, 2 usage or bad input (one ``error: …`` line), 1 an archive that fails
verification or an erasure refused for it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import hashlib
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:  # bot/cli.py imports this module for `dxbot --help`: nothing heavy up here
    from bot.core.config import Settings
    from store.db import Session
    from store.erasure import Result

Fetch = Callable[[str], Awaitable[bytes | None]]
SLACK_FILE_HOSTS = ("files.slack.com",)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `archive`, `erase` and `audit` sub-commands (called from bot/cli.py)."""
    ar = sub.add_parser(
        "archive",
        help="everything a program holds as one zip (contract end); `archive verify FILE`",
    )
    ar.set_defaults(handler="bot.cli_data:cmd_archive")
    ar.add_argument("--program", metavar="ID", help="the program to archive")
    ar.add_argument("--out", metavar="FILE.zip")
    ar.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)
    ar_sub = ar.add_subparsers(dest="archive_command")
    av = ar_sub.add_parser("verify", help="check an archive's files against its manifest")
    av.set_defaults(handler="bot.cli_data:cmd_archive_verify")
    av.add_argument("file", metavar="FILE.zip")

    er = sub.add_parser(
        "erase", help="erase a program's personal data for good (after `dxbot archive`)"
    )
    er.set_defaults(handler="bot.cli_data:cmd_erase")
    er.add_argument("--program", required=True, metavar="ID")
    er.add_argument(
        "--yes-i-have-the-archive",
        dest="archive",
        metavar="FILE",
        help="skip the question: the archive is verified first and must match the program",
    )
    er.add_argument("--by", metavar="NAME", help="who erases (default: the system user name)")
    er.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)

    au = sub.add_parser("audit", help="who did what to which case, session, report or setting")
    au.set_defaults(handler="bot.cli_data:cmd_audit")
    au.add_argument("--case", metavar="CASE_ID")
    au.add_argument("--from", dest="from_date", metavar="DATE")
    au.add_argument("--to", dest="to_date", metavar="DATE")
    au.add_argument("--program", metavar="ID", help="default: every program")
    au.add_argument("--json", action="store_true")


def _no_program(args: argparse.Namespace) -> argparse.Namespace:
    """The arguments without --program: the program read or erased is named in the database,
    even when its profile file is no longer in the profiles folder."""
    return argparse.Namespace(now=getattr(args, "now", None))


async def _loaded_ids(s: Session) -> list[str]:
    from store import programs

    return sorted(p.id for p in await programs.all_programs(s))


# --- archive ----------------------------------------------------------------------------------------


def slack_fetcher(settings: Settings) -> Fetch | None:
    """Fetch a Slack file's bytes with the bot token; None when no token is configured. The
    token goes only to Slack's file host (or the host of SLACK_API_URL, a test's fake)."""
    if settings.slack_bot_token is None:
        return None
    import aiohttp

    token = settings.slack_bot_token.get_secret_value()
    hosts = {*SLACK_FILE_HOSTS, urlparse(settings.slack_api_url).hostname or ""}

    async def fetch(url: str) -> bytes | None:
        parsed = urlparse(url)
        if parsed.scheme not in ("https", "http") or parsed.hostname not in hosts:
            return None
        try:
            async with (
                aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=60), trust_env=True
                ) as http,
                http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp,
            ):
                if resp.status != 200 or resp.content_type == "text/html":
                    return None  # Slack answers a login page when the token may not read it
                return await resp.read()
        except (aiohttp.ClientError, TimeoutError):
            return None

    return fetch


def _write_atomically(path: Path, content: bytes) -> None:
    from bot.core.errors import CliError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(content)
        os.replace(tmp, path)
    except OSError as exc:
        raise CliError(f"Cannot write {path}: {exc.strerror}.") from exc


async def cmd_archive(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_common import cli_services
    from bot.core.errors import CliError
    from reports import archive

    if not args.program or not args.out:
        raise CliError("Give --program ID and --out FILE.zip (or `dxbot archive verify FILE.zip`).")
    if not args.out.lower().endswith(".zip"):
        raise CliError(f"--out must name a .zip file, not {args.out!r}.")
    fetch = slack_fetcher(settings)
    async with cli_services(settings, _no_program(args)) as services:
        async with services.db.transaction() as s:
            try:
                made = await archive.build_archive(
                    s,
                    args.program,
                    services.clock.now(),
                    fetch=fetch,
                )
            except archive.ArchiveError:
                known = ", ".join(await _loaded_ids(s)) or "none"
                raise CliError(
                    f"Program {args.program!r} is not in this database. Loaded programs: {known}."
                ) from None
    out = Path(args.out)
    _write_atomically(out, made.content)
    counts = ", ".join(f"{name} {n}" for name, n in made.rows.items())
    print(f"Wrote the archive of {args.program} to {out} ({len(made.content)} bytes).")
    print(f"Rows: {counts}.")
    print(
        f"Attachments: {made.fetched} archived, {made.linked} listed as links only"
        + ("" if fetch else " (no SLACK_BOT_TOKEN: files are not fetched)")
        + "."
    )
    print(f"SHA-256 of the archive: {hashlib.sha256(made.content).hexdigest()}")
    return 0


def _read(path_text: str) -> bytes:
    from bot.core.errors import CliError

    path = Path(path_text)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"Cannot read {path}: {exc.strerror}.") from exc


async def cmd_archive_verify(args: argparse.Namespace, settings: Settings) -> int:
    from reports import archive

    content = _read(args.file)
    problems = archive.verify(content)
    if problems:
        for p in problems:
            print(f"FAIL {p}")
        print(f"Archive {args.file} failed verification ({len(problems)} problems).")
        return 1
    manifest = archive.manifest_of(content)
    print(
        f"Archive {args.file} verified: {len(manifest['files'])} files match the manifest "
        f"(program {manifest['program_id']}, made {manifest['created_at']})."
    )
    print(f"SHA-256 of the archive: {hashlib.sha256(content).hexdigest()}")
    return 0


# --- erase --------------------------------------------------------------------------------------------


def _archive_problems(content: bytes, program_id: str, current: dict[str, int]) -> list[str]:
    """Why an archive may not stand for the program's data now (empty when it may)."""
    from reports import archive

    problems = archive.verify(content)
    if problems:
        return problems
    manifest = archive.manifest_of(content)
    if manifest.get("program_id") != program_id:
        return [f"the archive is of program {manifest.get('program_id')!r}, not {program_id!r}"]
    tables = manifest.get("tables", {})
    for table, key in (
        ("cases", "cases"),
        ("sessions", "sessions"),
        ("session_reports", "session_reports"),
        ("surveys", "surveys"),
    ):
        if tables.get(table) != current.get(key):
            return [
                f"the archive holds {tables.get(table)} {table} but the program has "
                f"{current.get(key)} now: make a new archive"
            ]
    return []


def _confirm(program_id: str) -> bool:
    print(f"Type the program id ({program_id}) to erase it for good: ", end="", flush=True)
    try:
        typed = input()
    except EOFError:
        return False
    return typed.strip() == program_id


async def cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_common import cli_services
    from bot.core.errors import CliError
    from store import erasure

    content = _read(args.archive) if args.archive else None
    actor = args.by or getpass.getuser()
    async with cli_services(settings, _no_program(args)) as services:
        configured = services.profile.id
        async with services.db.transaction() as s:
            plan = await erasure.plan(s, args.program, configured)
            if plan is None:
                known = ", ".join(await _loaded_ids(s)) or "none"
                raise CliError(
                    f"Program {args.program!r} is not in this database. Loaded programs: {known}."
                )
        print(f"This erases the personal data of {plan.program_id} ({plan.program_name}):")
        for table, n in plan.counts.items():
            print(f"  {table}: {n} rows")
        print(
            f"  people: {plan.people_erased} deleted, {plan.people_kept} kept for another "
            "program (only their membership of this program is removed)"
        )
        print("Only aggregate counts stay (in the erasure record). This cannot be undone.")
        digest = ""
        if content is not None:
            problems = _archive_problems(content, plan.program_id, plan.counts)
            if problems:
                for p in problems:
                    print(f"FAIL {p}")
                print(f"Nothing was erased: {args.archive} does not hold this program's data.")
                return 1
            digest = hashlib.sha256(content).hexdigest()
            print(f"Archive {args.archive} verified (SHA-256 {digest}).")
        elif not _confirm(plan.program_id):
            raise CliError("The program id was not typed again; nothing was erased.")
        now = services.clock.now()
        async with services.db.transaction() as s:
            result = await erasure.erase(
                s,
                plan.program_id,
                configured_program=configured,
                now=now,
                actor=actor,
                archive_sha256=digest,
            )
        compacted = await erasure.compact(services.db)
    _print_record(plan.program_id, plan.program_name, now, actor, digest, result, compacted)
    return 0


def _print_record(
    program_id: str,
    program_name: str,
    now: dt.datetime,
    actor: str,
    digest: str,
    result: Result,
    compacted: str,
) -> None:
    from bot.core.catalog import t
    from reminders.clock import JST

    at = now.astimezone(JST)
    print()
    print(f"ERASURE RECORD #{result.record_id}")
    print(f"Program: {program_id} ({program_name})")
    print(f"Erased at: {at.isoformat()} (JST)")
    print(f"Erased by: {actor}")
    print(f"Archive SHA-256: {digest or '(none given; the program id was typed to confirm)'}")
    print("Rows (before -> after):")
    for table, n in result.before.items():
        print(f"  {table}: {n} -> {result.after.get(table, 0)}")
    print(f"People deleted: {result.people_erased}")
    print(f"People kept for another program: {result.people_kept}")
    print(f"Rows elsewhere with the erased names or case numbers redacted: {result.redacted}")
    print(f"Aggregate counts kept: {json.dumps(result.aggregates, ensure_ascii=False)}")
    print(f"Database files: {compacted}.")
    print(
        "Backups: copies taken before this erasure (database dumps such as deploy/ backups, "
        "server or volume snapshots, copies of the archive) still hold the data. Find them and "
        "delete them (or destroy their media) to complete the erasure; record where and when."
    )
    print()
    print(t("erase_cert_title"))
    print(
        t(
            "erase_cert_body",
            program=program_name,
            program_id=program_id,
            at=at.strftime("%Y-%m-%d %H:%M"),
            actor=actor,
            archive=digest or "—",
        )
    )


# --- audit ---------------------------------------------------------------------------------------------


async def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_common import cli_services, parse_date
    from bot.core.errors import CliError
    from reminders.clock import JST
    from store import audit

    since = until = None
    if args.from_date:
        since = dt.datetime.combine(parse_date(args.from_date), dt.time(0), tzinfo=JST)
    if args.to_date:
        until = dt.datetime.combine(
            parse_date(args.to_date) + dt.timedelta(days=1), dt.time(0), tzinfo=JST
        )
    if since and until and until <= since:
        raise CliError("--to is before --from; give the earlier date first.")
    async with (
        cli_services(settings, _no_program(args)) as services,
        services.db.transaction() as s,
    ):
        if args.program and args.program not in await _loaded_ids(s):
            raise CliError(f"Program {args.program!r} is not in this database.")
        if args.case:
            from store import cases

            if await cases.get_by_no(s, args.case) is None:
                raise CliError(f"Case {args.case} does not exist.")
        rows = await audit.trail(
            s, program_id=args.program, case_no=args.case, since=since, until=until
        )
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "at": r.at.astimezone(JST).isoformat(),
                        "actor": r.actor,
                        "action": r.action,
                        "object_type": r.object_type,
                        "object_id": r.object_id,
                        "case_no": r.case_no,
                        "program_id": r.program_id,
                        "detail": r.detail,
                    }
                    for r in rows
                ],
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0
    if not rows:
        print("No audit entries match.")
        return 0
    print("at\tprogram\tactor\taction\tobject\tcase\tdetail")
    for r in rows:
        obj = f"{r.object_type} {r.object_id}".strip()
        detail = json.dumps(r.detail, ensure_ascii=False) if r.detail else ""
        print(
            f"{r.at.astimezone(JST).strftime('%Y-%m-%d %H:%M')}\t{r.program_id or '-'}\t"
            f"{r.actor}\t{r.action}\t{obj}\t{r.case_no or '-'}\t{detail}"
        )
    print(f"{len(rows)} entries.", file=sys.stderr)
    return 0
