"""Persisted conversation state: flow, step, collected fields and expiry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import rowcount
from store.models import ConversationState


async def get(
    s: AsyncSession, platform: str, user_platform_id: str, thread_key: str
) -> ConversationState | None:
    return await s.scalar(
        select(ConversationState).where(
            ConversationState.platform == platform,
            ConversationState.user_platform_id == user_platform_id,
            ConversationState.thread_key == thread_key,
        )
    )


async def save(
    s: AsyncSession,
    *,
    platform: str,
    user_platform_id: str,
    thread_key: str,
    channel: str,
    flow: str,
    step: str,
    data: dict[str, Any],
    expires_at: dt.datetime,
    now: dt.datetime,
) -> ConversationState:
    state = await get(s, platform, user_platform_id, thread_key)
    if state is None:
        state = ConversationState(
            platform=platform, user_platform_id=user_platform_id, thread_key=thread_key
        )
        s.add(state)
    state.channel = channel
    state.flow = flow
    state.step = step
    # A new dict so SQLAlchemy sees the change to the JSON column.
    state.data = dict(data)
    state.expires_at = expires_at
    state.updated_at = now
    await s.flush()
    return state


async def clear(s: AsyncSession, platform: str, user_platform_id: str, thread_key: str) -> None:
    await s.execute(
        delete(ConversationState).where(
            ConversationState.platform == platform,
            ConversationState.user_platform_id == user_platform_id,
            ConversationState.thread_key == thread_key,
        )
    )


async def expired(s: AsyncSession, now: dt.datetime, limit: int = 100) -> list[ConversationState]:
    return list(
        (
            await s.scalars(
                select(ConversationState)
                .where(ConversationState.expires_at <= now)
                .order_by(ConversationState.expires_at)
                .limit(limit)
            )
        ).all()
    )


async def delete_if_expired(s: AsyncSession, state_id: int, now: dt.datetime) -> bool:
    """Delete one expired state; False when another process took it or the user came back."""
    result = await s.execute(
        delete(ConversationState).where(
            ConversationState.id == state_id, ConversationState.expires_at <= now
        )
    )
    return bool(rowcount(result))


async def with_prefix(
    s: AsyncSession, platform: str, user_platform_id: str, prefix: str
) -> list[ConversationState]:
    """A person's states whose thread key starts with ``prefix`` (paused drafts), newest first."""
    return list(
        (
            await s.scalars(
                select(ConversationState)
                .where(
                    ConversationState.platform == platform,
                    ConversationState.user_platform_id == user_platform_id,
                    ConversationState.thread_key.startswith(prefix, autoescape=True),
                )
                .order_by(ConversationState.updated_at.desc(), ConversationState.id.desc())
            )
        ).all()
    )
