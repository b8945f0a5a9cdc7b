"""`dxbot queue [--as PLATFORM_ID] [--program ID] [--json]`: every wait of the desk's queue, the
same list as `/dx queue` in the chat (``handlers.queue``). Without `--as` it runs as the system
(the whole program, oldest first); with `--as` it shows what that user would see.

bot/cli.py imports this module for its argument tree while building `dxbot --help`, so nothing
heavy is imported at module level: the store and the handlers are imported by the command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.config import Settings

AddProgram = Callable[[argparse.ArgumentParser, list[str]], None]


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    programs: list[str],
    program_option: AddProgram,
) -> None:
    """The `queue` sub-command (called from bot/cli.py)."""
    q = sub.add_parser(
        "queue", help="what waits for whom: every wait by case id and age in 開庁日 (/dx queue)"
    )
    q.set_defaults(handler="bot.cli_queue:cmd_queue")
    q.add_argument("--as", dest="as_user", metavar="PLATFORM_ID")
    program_option(q, programs)
    q.add_argument("--json", action="store_true", help="the same list as JSON (see README)")
    q.add_argument("--now", metavar="ISO-8601", help=argparse.SUPPRESS)


async def cmd_queue(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_reports import viewer_context
    from handlers.queue import queue_json_text, queue_text

    async with viewer_context(args, settings) as ctx:
        text = await (queue_json_text if args.json else queue_text)(ctx)
    print(text)
    return 0
