"""`/dx export cases|sessions|reports [csv|xlsx|json]` and `/dx casebook [names]`: staff,
prefecture and admin get the file posted back into the conversation.

The request is acknowledged at once; the file is made off the request path (``ctx.later``) in
its own units of work — one to read, one to post through the outbox — so a slow export never
holds the chat, and a failure is answered with an apology instead of silence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.catalog import t
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.messages import FileOut, Outbound
from bot.core.notifier import Notifier
from bot.core.permissions import Action, require
from bot.core.router import Router
from reports import casebook, export
from reports.export import ExportFile
from store import users
from store.db import Session

log = logging.getLogger("dxbot.files")

Built = tuple[FileOut, str]  # the file and the message that carries it
Builder = Callable[[], Awaitable[Built]]
# Reads rows in the job's unit of work and returns the builder that makes the file from them
# after that transaction has ended (no database connection held while building).
Reader = Callable[[Session], Awaitable[Builder]]

FORMAT_WORDS: dict[str, export.Format] = {
    "csv": "csv",
    "xlsx": "xlsx",
    "excel": "xlsx",
    "json": "json",
}
NAMED_WORDS = {"names", "named", "実名", "団体名あり", "団体名"}


async def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """CPU-bound file writing (openpyxl, python-pptx) off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def file_out(f: ExportFile) -> FileOut:
    return FileOut(name=f.name, content=f.content, content_type=f.content_type, title=f.title)


def post_file_later(ctx: Context, read: Reader, job: str) -> None:
    """Queue the work that makes a file and posts it to the asking user (in the same thread).

    The job must not touch ``ctx.s`` (closed by then): it captures plain values and opens its
    own transactions. Building runs in a worker thread so the event loop keeps answering.
    """
    db, clock, settings = ctx.db, ctx.clock, ctx.settings
    user_id, platform, thread = ctx.actor.user_id, ctx.inbound.platform, ctx.inbound.thread
    key = f"{job}:{platform}:{ctx.inbound.event_id}"

    async def post(message: Outbound, dedupe_key: str) -> None:
        async with db.transaction() as s:
            user = await users.get(s, user_id)
            if user is not None:
                notifier = Notifier(s, clock, settings, platform)
                await notifier.to_user(user, message, dedupe_key=dedupe_key)

    async def run() -> None:
        try:
            async with db.transaction() as s:
                build = await read(s)
            file, text = await build()
            await post(Outbound(text=text, files=(file,), thread=thread), key)
        except Exception:
            log.exception("%s failed", job)
            await post(Outbound(text=t("file_failed"), thread=thread), key + ":failed")

    ctx.later(run)


def parse_export(args: str) -> tuple[export.Kind, export.Format]:
    words = args.lower().split()
    kind = next((k for k in export.KINDS if words and words[0] == k), None)
    if kind is None or len(words) > 2:
        raise UserError("ex_usage")
    fmt = FORMAT_WORDS.get(words[1]) if len(words) == 2 else "xlsx"
    if fmt is None:
        raise UserError("ex_usage")
    return kind, fmt


async def export_command(ctx: Context, args: str) -> list[Outbound]:
    require(ctx.actor, Action.EXPORT)
    kind, fmt = parse_export(args)
    profile, now = ctx.profile, ctx.now()

    async def read(s: Session) -> Builder:
        tables = await export.load_tables(s, profile, kind, now, ledger=fmt == "xlsx")

        async def build() -> Built:
            f = await in_thread(export.export_file, profile, kind, fmt, now, tables)
            return file_out(f), t("ex_ready", title=f.title, format=fmt.upper())

        return build

    post_file_later(ctx, read, f"export-{kind}")
    return [Outbound(text=t("ex_preparing", what=t(f"ex_kind_{kind}"), format=fmt.upper()))]


async def casebook_command(ctx: Context, args: str) -> list[Outbound]:
    require(ctx.actor, Action.EXPORT)
    words = set(args.split())
    if words - NAMED_WORDS:
        raise UserError("cb_usage")
    masked = not words
    profile, now = ctx.profile, ctx.now()

    async def read(s: Session) -> Builder:
        entries = await casebook.load_casebook(s, profile, now, mask_municipalities=masked)

        async def build() -> Built:
            f = await in_thread(casebook.casebook_file, entries, profile, now, masked=masked)
            key = "cb_ready_masked" if masked else "cb_ready_named"
            return file_out(f), t(key, title=f.title, n=len(entries))

        return build

    post_file_later(ctx, read, "casebook")
    return [Outbound(text=t("cb_preparing"))]


def register(router: Router) -> None:
    router.dx_command("export", export_command)
    router.dx_command("casebook", casebook_command)
