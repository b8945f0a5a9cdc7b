"""Reference data shipped as package data: municipalities (全国地方公共団体コード) and the 表1
domain taxonomy. Loaded into the database by `dxbot seed`."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Domain, Municipality


@dataclass(frozen=True)
class MunicipalityRef:
    code: str
    code5: str
    name: str
    kana: str
    prefecture_code: str
    prefecture_name: str


@dataclass(frozen=True)
class DomainRef:
    group: str
    name: str
    keywords: tuple[str, ...]


def _read_json(name: str) -> Any:
    return json.loads(resources.files("store").joinpath("data", name).read_text("utf-8"))


@cache
def _shipped() -> dict[str, tuple[MunicipalityRef, ...]]:
    """Every prefecture's municipalities from the package data (about 260 kB), read once and only
    when first asked for: `dxbot --help` never imports this module, and a seed reads it once."""
    return {
        prefecture_code: tuple(
            MunicipalityRef(
                code=m["code"],
                code5=m["code5"],
                name=m["name"],
                kana=m.get("kana", ""),
                prefecture_code=prefecture_code,
                prefecture_name=pref["name"],
            )
            for m in pref["municipalities"]
        )
        for prefecture_code, pref in _read_json("municipalities.json")["prefectures"].items()
    }


def municipalities(prefecture_code: str) -> tuple[MunicipalityRef, ...]:
    """One prefecture's municipalities as shipped (all 47 prefectures are), in code order."""
    return _shipped().get(prefecture_code, ())


def shipped_matches(name_or_code: str) -> list[MunicipalityRef]:
    """Municipalities of any prefecture whose name or 5/6-digit code is ``name_or_code``, from
    the package data rather than the database (which holds the seeded prefecture only), so a
    municipality of another prefecture can be named in a refusal instead of being "unknown".
    Names follow ``resolve_municipality``: exact, else with 市/町/村/区 added."""
    key = normalize_name(name_or_code)
    every = [m for ms in _shipped().values() for m in ms]
    if key.isdigit() and len(key) in (5, 6):
        return [m for m in every if (m.code if len(key) == 6 else m.code5) == key]
    exact = [m for m in every if m.name == key]
    if exact or len(key) < 2:
        return exact
    names = {f"{key}市", f"{key}町", f"{key}村", f"{key}区"}
    return [m for m in every if m.name in names]


@cache
def domains() -> tuple[DomainRef, ...]:
    return tuple(
        DomainRef(group=d["group"], name=d["name"], keywords=tuple(d.get("keywords", ())))
        for d in _read_json("domains.json")
    )


def check_digit(code5: str) -> str:
    """The 6th digit of a 全国地方公共団体コード (JIS X 0402 check digit)."""
    total = sum(int(c) * w for c, w in zip(code5, (6, 5, 4, 3, 2), strict=True))
    return str((11 - total % 11) % 10)


async def load_municipalities(s: AsyncSession, prefecture_code: str) -> int:
    existing = set((await s.scalars(select(Municipality.code))).all())
    added = 0
    for m in municipalities(prefecture_code):
        if m.code in existing:
            continue
        s.add(
            Municipality(
                code=m.code,
                code5=m.code5,
                name=m.name,
                kana=m.kana,
                prefecture_code=m.prefecture_code,
                prefecture_name=m.prefecture_name,
            )
        )
        added += 1
    await s.flush()
    return added


async def loaded_municipalities(s: AsyncSession, prefecture_code: str) -> list[Municipality]:
    """The prefecture's municipalities as seeded, in code order."""
    q = (
        select(Municipality)
        .where(Municipality.prefecture_code == prefecture_code)
        .order_by(Municipality.code)
    )
    return list((await s.scalars(q)).all())


async def municipality_names(s: AsyncSession, prefecture_code: str) -> dict[str, str]:
    """The prefecture's seeded municipalities, code → name, in code order."""
    rows = await s.execute(
        select(Municipality.code, Municipality.name)
        .where(Municipality.prefecture_code == prefecture_code)
        .order_by(Municipality.code)
    )
    return {code: name for code, name in rows.all()}


async def municipality_name(s: AsyncSession, code: str) -> str | None:
    return await s.scalar(select(Municipality.name).where(Municipality.code == code))


async def names_by_code(s: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """code → name of the given municipalities, in one statement (unknown codes are absent)."""
    wanted = set(codes)
    if not wanted:
        return {}
    rows = await s.execute(
        select(Municipality.code, Municipality.name).where(Municipality.code.in_(wanted))
    )
    return {code: name for code, name in rows.all()}


async def load_domains(s: AsyncSession, program_id: str, extra: tuple[str, ...]) -> None:
    have = {(d.program_id, d.name) for d in (await s.scalars(select(Domain))).all()}
    for d in domains():
        if (None, d.name) not in have:
            s.add(Domain(program_id=None, group=d.group, name=d.name, keywords=list(d.keywords)))
    for name in extra:
        if (program_id, name) not in have:
            s.add(Domain(program_id=program_id, group="事業独自", name=name, keywords=[name]))
    await s.flush()


def outside_prefecture(name_or_code: str, prefecture_code: str) -> list[MunicipalityRef]:
    """The shipped municipalities ``name_or_code`` names that lie outside the prefecture: a
    program serves its own prefecture only, and the refusal names where the municipality is."""
    return [m for m in shipped_matches(name_or_code) if m.prefecture_code != prefecture_code]


def normalize_name(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


async def resolve_municipality(
    s: AsyncSession, name_or_code: str, prefecture_code: str | None = None
) -> list[Municipality]:
    """Find municipalities by name (さいたま市, or さいたま) or by 5/6-digit code.

    Returns every match so callers can ask when the answer is ambiguous.
    """
    key = normalize_name(name_or_code)
    q = select(Municipality)
    if prefecture_code:
        q = q.where(Municipality.prefecture_code == prefecture_code)
    if key.isdigit() and len(key) in (5, 6):
        col = Municipality.code if len(key) == 6 else Municipality.code5
        return list((await s.scalars(q.where(col == key))).all())
    exact = list((await s.scalars(q.where(Municipality.name == key))).all())
    if exact:
        return exact
    if len(key) < 2:
        return []
    return list(
        (
            await s.scalars(
                q.where(Municipality.name.in_([f"{key}市", f"{key}町", f"{key}村", f"{key}区"]))
            )
        ).all()
    )
