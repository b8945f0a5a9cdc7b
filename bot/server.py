"""HTTP server for the chat platforms (Slack, LoGo Chat)."""

from __future__ import annotations

from bot.config import Settings
from bot.errors import CliError


async def serve(
    settings: Settings, *, adapter: str, host: str, port: int, socket_mode: bool
) -> int:
    raise CliError(
        f"The {adapter} adapter is not part of this build yet (issue 6); "
        "use `dxbot chat` for the console adapter."
    )
