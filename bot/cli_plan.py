"""`dxbot plan CASE_ID [--out FILE.xlsx]`: an engagement's plan document (支援計画書, 実施プラン)
written to a file, the same workbook `/dx plan CASE` posts in the chat.

Without ``--out`` the file is written in the current folder under the name the chat gives it
(``KUM-2026-0003_plan.xlsx``). A case that does not exist, whose track runs no engagements, or
whose engagement is not recorded yet is one English sentence and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli_common import cli_services
from bot.core.config import Settings
from bot.core.errors import CliError, UserError
from reports import plan_doc
from store import cases
from store import engagements as engagement_store


async def cmd_plan(args: argparse.Namespace, settings: Settings) -> int:
    if args.out and not args.out.lower().endswith(".xlsx"):
        raise CliError(f"--out must name a .xlsx file, not {args.out!r}.")
    async with (
        cli_services(settings, args, program_loaded=True) as services,
        services.db.transaction() as s,
    ):
        profile, now = services.profile, services.clock.now()
        case = await cases.get_by_no(s, args.case_id.strip())
        if case is None or case.program_id != profile.id:
            print(
                f"error: Case {args.case_id} does not exist in program {profile.id}; "
                "see `dxbot export cases --format csv` for the case numbers.",
                file=sys.stderr,
            )
            return 1
        track = profile.track(case.track_id)
        if track.expected_municipalities is None:
            others = ", ".join(tr.id for tr in engagement_store.engagement_tracks(profile))
            print(
                f"error: Case {case.case_no} is in the track {track.id}, which runs no "
                f"engagements; plans are kept for cases of {others or 'no track of this program'}.",
                file=sys.stderr,
            )
            return 1
        data = await plan_doc.load_plan(s, profile, case.id, now)
        if data is None:
            print(
                f"error: {UserError('plan_none', case_no=case.case_no).render('en')}",
                file=sys.stderr,
            )
            return 1
    f = plan_doc.plan_file(data)
    path = Path(args.out or f.name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.content)
    except OSError as exc:
        raise CliError(f"Cannot write {path}: {exc.strerror}.") from exc
    print(f"Wrote the plan of {data.case_no} ({data.track_name}) to {path}.")
    return 0
