"""Forgetting what the bot keeps only for a while (reminders/retention.py decides when): a
half-finished conversation, a chat delivery already handled (inbox) and the text of a message
already delivered (outbox). The outbox row itself stays with its dedupe key, so a retried
change never sends the same message twice; only what it said is cleared."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import rowcount
from store.models import ConversationState, InboxItem, OutboxMessage

CLEARED: dict[str, str] = {"text": ""}


async def drop_conversations(s: AsyncSession, before: dt.datetime) -> int:
    """Conversation states last touched before ``before``."""
    result = await s.execute(
        delete(ConversationState)
        .where(ConversationState.updated_at < before)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


async def drop_inbox(s: AsyncSession, before: dt.datetime) -> int:
    """Handled deliveries received before ``before`` (unhandled ones are kept: work to do)."""
    result = await s.execute(
        delete(InboxItem)
        .where(InboxItem.done_at.is_not(None), InboxItem.received_at < before)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


async def clear_outbox(s: AsyncSession, before: dt.datetime) -> int:
    """Clear the text of messages delivered before ``before`` (each once)."""
    result = await s.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.delivered_at.is_not(None),
            OutboxMessage.delivered_at < before,
            OutboxMessage.last_error != "cleared",
        )
        .values(payload=CLEARED, last_error="cleared")
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)
