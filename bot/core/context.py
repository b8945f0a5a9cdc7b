"""What a handler is given: the unit of work, the actor, the clock and the ports.

Handlers receive everything through this object (no globals), so a journey is testable with a
fake context or through the console adapter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core import notifier as notices
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

    def routine_notice_time(self) -> dt.datetime | None:
        """When a routine notice (a status change, a booking made after the fact) may go: the
        next office hours of a 開庁日 under the program's policy, or now (None) within them."""
        policy = self.profile.reminders
        return notices.office_time(
            self.now(), self.calendar, policy.office_start, policy.office_end
        )

    def session_notice_time(self, starts: list[dt.datetime]) -> dt.datetime | None:
        """When a notice about a session starting at ``starts`` may go: at once (None) when one
        falls within the next two 開庁日, else as a routine notice."""
        policy = self.profile.reminders
        return notices.session_notice_time(
            self.now(), self.calendar, policy.office_start, policy.office_end, starts
        )

    def later(self, job: BackgroundJob) -> None:
        """Run slow work (decks, exports) after the reply, off the request path."""
        self.background.append(job)
