"""Audit log: who did what to which object (the prefecture owns the data and may ask)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AuditEntry


async def record(
    s: AsyncSession,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
    program_id: str = "",
) -> None:
    s.add(
        AuditEntry(
            at=at,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail or {},
            program_id=program_id,
        )
    )
