"""What a handler is given: the unit of work, the actor, the clock and the ports.

Handlers receive everything through this object (no globals), so a journey is testable with a
fake context or through the console adapter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.config import Settings
from bot.core.messages import Inbound
from bot.core.permissions import Actor
from reminders.clock import Clock
from store.db import Database, Session
from store.profiles import ProgramProfile

if TYPE_CHECKING:
    from bot.core.llm import LLM
    from bot.core.notifier import Notifier
    from reminders.calendar import BusinessCalendar

BackgroundJob = Callable[[], Awaitable[None]]


@dataclass
class Context:
    s: Session
    db: Database  # only for background jobs, which open their own unit of work
    clock: Clock
    settings: Settings
    profile: ProgramProfile
    actor: Actor
    inbound: Inbound
    notifier: Notifier
    calendar: BusinessCalendar
    llm: LLM
    background: list[BackgroundJob] = field(default_factory=list)

    def now(self) -> dt.datetime:
        return self.clock.now()

    def later(self, job: BackgroundJob) -> None:
        """Run slow work (decks, exports) after the reply, off the request path."""
        self.background.append(job)
