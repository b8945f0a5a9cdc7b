"""Which rows a read may return: the one scope type of status, reporting, exports and decks.

It lives in the store because the store applies it in SQL; ``bot.core.permissions.case_scope``
decides which one an actor gets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """All of a program (both fields None), one municipality's rows, or one expert's."""

    municipality_code: str | None = None
    expert_user_id: int | None = None

    @property
    def everything(self) -> bool:
        return self.municipality_code is None and self.expert_user_id is None


EVERYTHING = Scope()
