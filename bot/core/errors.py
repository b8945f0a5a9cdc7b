"""One error base for expected failures: the reason is shown to the user, nothing is logged
as a crash. Anything else is caught at the dispatcher boundary, logged, and answered politely."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """An expected refusal; ``key`` names a message in the catalogue (Japanese, for chat)."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def render(self, lang: str = "ja") -> str:
        from bot.core.catalog import t

        return t(self.key, lang=lang, **self.params)


class CliError(Exception):
    """An expected CLI failure; ``str()`` is one English sentence saying what to do."""
