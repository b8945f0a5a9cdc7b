"""The console adapter — the embedded default, like Hubot's shell or Errbot's text backend.

It translates lines of text to ``Inbound`` and renders ``Outbound`` as numbered text. It also
serves as the test harness: ``--script`` replays ``PLATFORM_ID: text`` lines and prints every
reply and every proactive message delivered through the outbox.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from bot.app import Services
from bot.core.catalog import t
from bot.core.errors import CliError
from bot.core.messages import Inbound, Outbound
from bot.core.permissions import Role, role_label
from store import conversations as conv_store
from store import users

PLATFORM = "console"


def render(message: Outbound, files_dir: Path | None = None) -> str:
    """Outbound as plain text: fields as a table, choices numbered, files saved to disk."""
    lines = [message.text]
    width = max((len(label) for label, _ in message.fields), default=0)
    for label, value in message.fields:
        lines.append(f"  {label.ljust(width, '　')}: {value}")
    if message.form is not None:
        lines.append(f"[{message.form.title}]")
        lines.extend(f"  - {f.label}" for f in message.form.fields)
    for i, choice in enumerate(message.choices, start=1):
        lines.append(f"  {i}. {choice.label}")
    for f in message.files:
        if files_dir is not None:
            path = save_file(files_dir, f.name, f.content)
            lines.append(f"  [ファイル] {path}")
        else:
            lines.append(f"  [ファイル] {f.name}（{len(f.content):,} bytes）")
    return "\n".join(lines)


def save_file(files_dir: Path, name: str, content: bytes) -> Path:
    """Save a file the bot posted, never over an earlier one: two people's decks of the same
    period, or `casebook` then `casebook names`, keep both (「…-2.pptx」, 「…-3.pptx」)."""
    files_dir.mkdir(parents=True, exist_ok=True)
    base = Path(Path(name).name or "file")
    stem, suffix = base.stem, "".join(base.suffixes[-1:])
    for n in range(1, 10_000):
        path = files_dir / (base.name if n == 1 else f"{stem}-{n}{suffix}")
        try:
            with path.open("xb") as out:  # "x": fails when the name is taken, even by a race
                out.write(content)
        except FileExistsError:
            continue
        return path
    raise CliError(f"Too many files named like {base.name!r} in {files_dir}.")


class ConsoleSender:
    """Delivers outbox messages by printing them, addressed to the user or channel."""

    def __init__(self, out: TextIO, files_dir: Path | None) -> None:
        self.out = out
        self.files_dir = files_dir

    async def send(self, target_kind: str, target: str, message: Outbound) -> None:
        where = f"#{target}" if target_kind == "channel" else f"@{target}"
        self.out.write(f"[→ {where}] {render(message, self.files_dir)}\n")
        self.out.flush()


class ConsoleAdapter:
    def __init__(
        self, services: Services, out: TextIO | None = None, files_dir: Path | None = None
    ) -> None:
        self.services = services
        self.out = out or sys.stdout
        self.files_dir = files_dir
        self.sender = ConsoleSender(self.out, files_dir)
        self.deliverer = services.deliverer(self.sender, PLATFORM)
        # A line under the banner (`dxbot run` on an ended program: the clock inside its term).
        self.banner_note = ""

    async def resolve_user(self, platform_id: str) -> tuple[str, str, Role]:
        """(platform, name, role) of a registered user; English CliError when unknown."""
        async with self.services.db.transaction() as s:
            found = await users.find_by_platform_id(s, platform_id)
        if not found:
            raise CliError(
                f"No registered user {platform_id!r}; see `dxbot users list` or add one with "
                "`dxbot users add`."
            )
        u = found[0]
        return u.platform, u.name or u.platform_id, Role(u.role)

    async def default_user(self) -> str:
        async with self.services.db.transaction() as s:
            rows = await users.list_users(s)
        for preferred in ("officer1", "staff1"):
            if any(r.user.platform_id == preferred for r in rows):
                return preferred
        if not rows:
            raise CliError("No users are registered yet; add one with `dxbot users add`.")
        return rows[0].user.platform_id

    async def say(self, platform_id: str, text: str) -> list[Outbound]:
        platform, _, _ = await self.resolve_user(platform_id)
        inbound = Inbound(
            platform=platform,
            event_id=f"console-{uuid.uuid4()}",
            user_id=platform_id,
            text=text,
            channel=f"D-{platform_id}",
            received_at=self.services.clock.now(),
        )
        replies = await self.services.dispatcher.handle(inbound)
        for r in replies:
            self.out.write(f"bot> {render(r, self.files_dir)}\n")
        await self.deliverer.deliver_due()
        self.out.flush()
        return replies

    async def greet(self, platform_id: str) -> None:
        """The automatic 「こんにちは」 at start - unless a conversation is in progress, which it
        would be taken into (a consultation's 相談内容 became 「こんにちは」): then the
        person is told where they stand instead."""
        flow = await self.conversation_in_progress(platform_id)
        if flow is None:
            await self.say(platform_id, "こんにちは")
            return
        self.out.write(f"bot> {t('console_conversation_waiting', flow=flow)}\n")
        self.out.flush()

    async def conversation_in_progress(self, platform_id: str) -> str | None:
        """The label of the person's conversation in progress in direct messages, or None."""
        platform, _, _ = await self.resolve_user(platform_id)
        engine = self.services.dispatcher.router.engine
        async with self.services.db.transaction() as s:
            state = await conv_store.get(s, platform, platform_id, "")
        if state is None or state.flow not in engine.flows:
            return None
        if state.expires_at <= self.services.clock.now():
            return None
        return engine.label(state.flow)

    async def banner(self, platform_id: str) -> None:
        _, name, role = await self.resolve_user(platform_id)
        self.out.write(
            t(
                "console_banner",
                program=f"{self.services.profile.name}（{self.services.profile.id}）",
                user=f"{name}（{platform_id}）",
                role=role_label(role),
            )
            + "\n"
            + (f"{self.banner_note}\n" if self.banner_note else "")
        )

    async def run_script(self, lines: Iterable[str]) -> int:
        """Replay ``PLATFORM_ID: text`` lines; '#' comments and blank lines are skipped."""
        for n, raw in enumerate(lines, start=1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            who, sep, text = line.partition(":")
            if not sep or not who.strip():
                raise CliError(f"Script line {n} must look like 'PLATFORM_ID: text', got {line!r}.")
            # A script line is one message; "\n" in it stands for a line break (pasted notes).
            text = text.strip().replace("\\n", "\n")
            self.out.write(f"{who.strip()}> {text}\n")
            await self.say(who.strip(), text)
        return 0

    async def run_interactive(self, platform_id: str, stdin: TextIO, interactive: bool) -> int:
        await self.banner(platform_id)
        await self.greet(platform_id)
        while True:
            if interactive:
                self.out.write(f"{platform_id}> ")
                self.out.flush()
            line = stdin.readline()
            if not line:
                return 0
            text = line.strip()
            if text in ("/quit", "/exit"):
                return 0
            if text.startswith("/as "):
                candidate = text[4:].strip()
                try:
                    _, name, role = await self.resolve_user(candidate)
                except CliError as exc:
                    self.out.write(f"{exc}\n")
                    continue
                platform_id = candidate
                self.out.write(
                    t("console_switched", user=f"{name}（{candidate}）", role=role_label(role))
                    + "\n"
                )
                continue
            if text == "/users":
                await self._list_users()
                continue
            if not interactive:
                self.out.write(f"{platform_id}> {text}\n")
            await self.say(platform_id, text)

    async def _list_users(self) -> None:
        async with self.services.db.transaction() as s:
            rows = await users.list_users(s)
        lines = "\n".join(
            f"  {r.user.platform_id}: {r.user.name}（{role_label(Role(r.user.role))}"
            f"{'・' + r.municipality_name if r.municipality_name else ''}）"
            for r in rows
        )
        self.out.write(t("console_users", lines=lines) + "\n")
