"""People: registered users with a role, and the expert roster."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from store.models import ExpertProfile, Municipality, ProgramMember, SessionExpert, User

ROLES = ("officer", "expert", "staff", "prefecture", "admin")
PLATFORMS = ("slack", "logo", "console")


class UserStoreError(Exception):
    """A refused change to the user table; ``str()`` is an English sentence (CLI)."""


async def get_by_platform_id(s: AsyncSession, platform: str, platform_id: str) -> User | None:
    return await s.scalar(
        select(User).where(
            User.platform == platform, User.platform_id == platform_id, User.active.is_(True)
        )
    )


async def find_by_platform_id(s: AsyncSession, platform_id: str) -> list[User]:
    """Every active user with this id on any platform (the CLI's --as)."""
    return list(
        (
            await s.scalars(
                select(User).where(User.platform_id == platform_id, User.active.is_(True))
            )
        ).all()
    )


async def get(s: AsyncSession, user_id: int) -> User | None:
    return await s.get(User, user_id)


async def get_many(s: AsyncSession, user_ids: Iterable[int]) -> dict[int, User]:
    """The users with these ids, by id, in one statement (unknown ids are absent)."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    return {u.id: u for u in (await s.scalars(select(User).where(User.id.in_(wanted)))).all()}


async def with_municipality(s: AsyncSession, user_id: int) -> tuple[User, Municipality] | None:
    """A user with the municipality they belong to (None for a user of no municipality)."""
    row = (
        await s.execute(
            select(User, Municipality)
            .join(Municipality, Municipality.code == User.municipality_code)
            .where(User.id == user_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def expert_profile(s: AsyncSession, user_id: int) -> ExpertProfile | None:
    return await s.get(ExpertProfile, user_id)


async def add(
    s: AsyncSession,
    *,
    platform: str,
    platform_id: str,
    role: str,
    now: dt.datetime,
    municipality_code: str | None = None,
    name: str = "",
    title: str = "",
    department: str = "",
    email: str = "",
    is_demo: bool = False,
    update: bool = False,
    actor: str = "",
) -> User:
    if role not in ROLES:
        raise UserStoreError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    if platform not in PLATFORMS:
        raise UserStoreError(
            f"Unknown platform {platform!r}; choose one of {', '.join(PLATFORMS)}."
        )
    if role == "officer" and not municipality_code:
        raise UserStoreError("An officer belongs to a municipality: give --municipality.")
    if not platform_id.strip() or len(platform_id) > 64 or any(c.isspace() for c in platform_id):
        raise UserStoreError(
            f"{platform_id!r} is not a valid platform user id (no spaces, at most 64 characters)."
        )
    user = await s.scalar(
        select(User).where(User.platform == platform, User.platform_id == platform_id)
    )
    if user is not None and user.active and not update:
        raise UserStoreError(
            f"User {platform_id} on {platform} already exists as {user.role}; "
            "remove it first or use a different id."
        )
    wanted = {
        "role": role,
        "municipality_code": municipality_code,
        "name": name,
        "title": title,
        "department": department,
        "email": email,
    }
    changed = sorted(k for k, v in wanted.items() if user is None or getattr(user, k) != v)
    if user is None or not user.active or changed:
        await audit.record(
            s,
            at=now,
            actor=actor,
            action="user_added" if user is None or not user.active else "user_updated",
            object_type="user",
            object_id=platform_id,
            detail={"platform": platform, "role": role, "changed": changed},
        )
    if user is None:
        user = User(platform=platform, platform_id=platform_id, created_at=now)
        s.add(user)
    user.role = role
    user.municipality_code = municipality_code
    user.name = name
    user.title = title
    user.department = department
    user.email = email
    user.active = True
    user.is_demo = is_demo
    await s.flush()
    return user


async def remove(
    s: AsyncSession,
    platform: str | None,
    platform_id: str,
    *,
    now: dt.datetime | None = None,
    actor: str = "",
) -> int:
    """Deactivate (not delete): history and reports keep their author. Audited when ``now``
    is given (`dxbot erase` deletes a program's people for good)."""
    q = select(User).where(User.platform_id == platform_id, User.active.is_(True))
    if platform:
        q = q.where(User.platform == platform)
    users = list((await s.scalars(q)).all())
    for u in users:
        u.active = False
        if now is not None:
            await audit.record(
                s,
                at=now,
                actor=actor,
                action="user_removed",
                object_type="user",
                object_id=u.platform_id,
                detail={"platform": u.platform, "role": u.role},
            )
    await s.flush()
    return len(users)


@dataclass(frozen=True)
class UserRow:
    user: User
    municipality_name: str = ""
    expert: ExpertProfile | None = None
    dispatches: int = 0
    extra: dict[str, str] = field(default_factory=dict)


async def list_users(
    s: AsyncSession, role: str | None = None, *, program: str | None = None
) -> list[UserRow]:
    """Active users, by role then id; with ``program``, only the members of that program."""
    q = (
        select(User, Municipality.name)
        .outerjoin(Municipality, Municipality.code == User.municipality_code)
        .where(User.active.is_(True))
        .order_by(User.role, User.platform_id)
    )
    if role:
        q = q.where(User.role == role)
    if program:
        members = select(ProgramMember.user_id).where(ProgramMember.program_id == program)
        q = q.where(User.id.in_(members))
    return [UserRow(user=u, municipality_name=m or "") for u, m in (await s.execute(q)).all()]


async def all_names(s: AsyncSession) -> list[str]:
    """Names of registered people, for masking before text goes to an LLM."""
    return [n for n in (await s.scalars(select(User.name).where(User.name != ""))).all() if n]


async def upsert_expert_profile(
    s: AsyncSession,
    user: User,
    *,
    domains: Sequence[str],
    qualifications: Sequence[str],
    onsite: bool,
    region: str,
    consent_listed: bool,
    availability: str = "",
    strengths: str = "",
) -> ExpertProfile:
    prof = await s.get(ExpertProfile, user.id)
    if prof is None:
        prof = ExpertProfile(user_id=user.id)
        s.add(prof)
    prof.domains = list(domains)
    prof.qualifications = list(qualifications)
    prof.onsite = onsite
    prof.region = region
    prof.consent_listed = consent_listed
    prof.availability = availability
    prof.strengths = strengths
    await s.flush()
    return prof


async def list_experts(s: AsyncSession) -> list[UserRow]:
    counts = (
        select(SessionExpert.user_id, func.count().label("n"))
        .group_by(SessionExpert.user_id)
        .subquery()
    )
    q = (
        select(User, ExpertProfile, func.coalesce(counts.c.n, 0))
        .join(ExpertProfile, ExpertProfile.user_id == User.id)
        .outerjoin(counts, counts.c.user_id == User.id)
        .where(User.active.is_(True), User.role == "expert")
        .order_by(User.platform_id)
    )
    return [UserRow(user=u, expert=p, dispatches=int(n)) for u, p, n in (await s.execute(q)).all()]


async def officers_of(s: AsyncSession, municipality_code: str) -> list[User]:
    """The active officers registered for a municipality, by name (a prefecture user picks
    the requester among them when opening a consultation on the municipality's behalf)."""
    return list(
        (
            await s.scalars(
                select(User)
                .where(
                    User.role == "officer",
                    User.active.is_(True),
                    User.municipality_code == municipality_code,
                )
                .order_by(User.name, User.platform_id)
            )
        ).all()
    )


async def municipalities_with_officers(s: AsyncSession, prefecture_code: str) -> list[Municipality]:
    """Municipalities of the prefecture that have at least one active officer, by code."""
    has_officer = (
        select(User.id)
        .where(
            User.role == "officer",
            User.active.is_(True),
            User.municipality_code == Municipality.code,
        )
        .exists()
    )
    return list(
        (
            await s.scalars(
                select(Municipality)
                .where(Municipality.prefecture_code == prefecture_code, has_officer)
                .order_by(Municipality.code)
            )
        ).all()
    )


# --- programs a person works in (several programs in one deployment) ---------------------------


async def join_program(s: AsyncSession, user: User, program_id: str, now: dt.datetime) -> bool:
    """Make ``user`` a member of ``program_id``; False when they already were."""
    if await s.get(ProgramMember, (user.id, program_id)) is not None:
        return False
    s.add(ProgramMember(user_id=user.id, program_id=program_id, created_at=now))
    await audit.record(
        s,
        at=now,
        actor="",
        action="user_joined_program",
        object_type="user",
        object_id=user.platform_id,
        detail={"platform": user.platform, "role": user.role},
        program_id=program_id,
    )
    await s.flush()
    return True


async def memberships(s: AsyncSession, user_id: int) -> list[ProgramMember]:
    """The programs ``user_id`` belongs to, the chosen one (at most one) first, then by id."""
    rows = await s.scalars(select(ProgramMember).where(ProgramMember.user_id == user_id))
    return sorted(rows.all(), key=lambda m: (m.chosen_at is None, m.program_id))


async def choose_program(
    s: AsyncSession, user_id: int, program_id: str | None, now: dt.datetime
) -> bool:
    """Remember which of their programs the person works in (None: forget, to be asked again);
    False when they are no member of ``program_id``."""
    rows = list(
        (await s.scalars(select(ProgramMember).where(ProgramMember.user_id == user_id))).all()
    )
    if program_id is not None and program_id not in {m.program_id for m in rows}:
        return False
    for m in rows:
        m.chosen_at = now if m.program_id == program_id else None
    await s.flush()
    return True
