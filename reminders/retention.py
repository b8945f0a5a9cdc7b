"""The retention pass: each program's profile says how long conversation state, handled chat
deliveries and delivered messages' text are kept (``retention`` in the profile); the scheduler
runs this pass (bot/runtime.py) and so does `dxbot remind`. The tables are shared by every
program of a deployment, so the shortest setting among the loaded programs applies: no
program's data is kept longer than its profile allows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from store import programs
from store import retention as store
from store.db import Session
from store.profiles import ProgramProfile, Retention


@dataclass(frozen=True)
class RetentionReport:
    conversations: int
    inbox: int
    outbox: int
    rule: Retention

    def line(self) -> str:
        return (
            f"Retention: {self.conversations} conversation states older than "
            f"{self.rule.conversation_days} days, {self.inbox} handled deliveries older than "
            f"{self.rule.inbox_days} days removed; {self.outbox} delivered messages older than "
            f"{self.rule.outbox_days} days cleared."
        )


def effective(profiles: Sequence[ProgramProfile]) -> Retention:
    """The shortest of each setting among ``profiles`` (defaults when there are none)."""
    rules = [p.retention for p in profiles] or [Retention()]
    return Retention(
        conversation_days=min(r.conversation_days for r in rules),
        inbox_days=min(r.inbox_days for r in rules),
        outbox_days=min(r.outbox_days for r in rules),
    )


async def retention_pass(
    s: Session, configured: ProgramProfile, now: dt.datetime
) -> RetentionReport:
    """Apply the retention of the configured program and every loaded one, as of ``now``."""
    loaded = [
        ProgramProfile.model_validate(p.profile)
        for p in await programs.all_programs(s)
        if p.id != configured.id
    ]
    rule = effective([configured, *loaded])
    day = dt.timedelta(days=1)
    return RetentionReport(
        conversations=await store.drop_conversations(s, now - rule.conversation_days * day),
        inbox=await store.drop_inbox(s, now - rule.inbox_days * day),
        outbox=await store.clear_outbox(s, now - rule.outbox_days * day),
        rule=rule,
    )
