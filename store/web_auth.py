"""Sign-in for the web view (issue 18): one-time links and browser sessions.

A link or session token is random (``secrets.token_urlsafe``) and handed out once; only its
SHA-256 is stored, so a copy of the database signs nobody in. A link is valid for
``LINK_TTL`` and used at most once: ``consume_link`` marks it used in one conditional UPDATE,
so two browsers racing on the same link get one session between them. A session lasts a
working day (``SESSION_TTL``) or until it is ended (sign-out).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import User, WebLink, WebSession

LINK_TTL = dt.timedelta(minutes=10)
SESSION_TTL = dt.timedelta(hours=10)
TOKEN_BYTES = 32

LinkRefusal = Literal["unknown", "used", "expired"]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


async def create_link(s: AsyncSession, *, user_id: int, program_id: str, now: dt.datetime) -> str:
    """A new one-time sign-in link for a user in a program; returns the token (never stored)."""
    token = new_token()
    s.add(
        WebLink(
            token_hash=token_hash(token),
            user_id=user_id,
            program_id=program_id,
            created_at=now,
            expires_at=now + LINK_TTL,
        )
    )
    await s.flush()
    return token


@dataclass(frozen=True)
class LinkUse:
    """A link that was just consumed: whom it signs in, to which program."""

    user_id: int
    program_id: str


async def consume_link(s: AsyncSession, token: str, now: dt.datetime) -> LinkUse | LinkRefusal:
    """Mark the link used, if it is unused and unexpired, in one statement (single use even
    under a race); otherwise say why it is refused."""
    digest = token_hash(token)
    row = (
        await s.execute(
            update(WebLink)
            .where(
                WebLink.token_hash == digest,
                WebLink.used_at.is_(None),
                WebLink.expires_at > now,
            )
            .values(used_at=now)
            .returning(WebLink.user_id, WebLink.program_id)
        )
    ).first()
    if row is not None:
        return LinkUse(int(row[0]), str(row[1]))
    link = await s.scalar(select(WebLink).where(WebLink.token_hash == digest))
    if link is None:
        return "unknown"
    return "used" if link.used_at is not None else "expired"


async def create_session(
    s: AsyncSession, *, user_id: int, program_id: str, now: dt.datetime
) -> tuple[str, dt.datetime]:
    """A new browser session; returns its token (for the cookie) and when it expires."""
    token = new_token()
    expires = now + SESSION_TTL
    s.add(
        WebSession(
            token_hash=token_hash(token),
            user_id=user_id,
            program_id=program_id,
            created_at=now,
            expires_at=expires,
        )
    )
    await s.flush()
    return token, expires


@dataclass(frozen=True)
class WebIdentity:
    """A live session and its (active) user."""

    session_id: int
    user: User
    program_id: str
    expires_at: dt.datetime


async def lookup_session(s: AsyncSession, token: str, now: dt.datetime) -> WebIdentity | None:
    """The session a cookie names, if it has not ended or expired and its user is active."""
    if not token:
        return None
    row = (
        await s.execute(
            select(WebSession.id, WebSession.program_id, WebSession.expires_at, User)
            .join(User, User.id == WebSession.user_id)
            .where(
                WebSession.token_hash == token_hash(token),
                WebSession.ended_at.is_(None),
                WebSession.expires_at > now,
                User.active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    return WebIdentity(int(row[0]), row[3], str(row[1]), row[2])


async def end_session(s: AsyncSession, token: str, now: dt.datetime) -> int | None:
    """End a session (sign-out); returns its user's id, or None if it was not live."""
    row = (
        await s.execute(
            update(WebSession)
            .where(WebSession.token_hash == token_hash(token), WebSession.ended_at.is_(None))
            .values(ended_at=now)
            .returning(WebSession.user_id)
        )
    ).first()
    return None if row is None else int(row[0])
