"""The report draft's pieces that need no conversation: reading pasted notes (labelled lines,
offline), the hours typed, what the bot already knows about a session, and the stored record
built from the answers (one section per municipality where the program asks for it).

Split from handlers/followup.py, which asks the questions and keeps the draft.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel

from bot.core.dates import normalize
from handlers import extract
from reminders.calendar import format_jp_datetime
from reminders.clock import JST
from reports.session_report import BY_MUNICIPALITY, PER_MUNICIPALITY_KEYS
from store import sessions as session_store
from store.db import Session
from store.models import SupportSession

NOTES_MIN_CHARS = 80
LABEL_ALIASES: dict[str, tuple[str, ...]] = {
    "attendees": ("出席者", "参加者", "市町村側", "対応者（市町村）"),
    "summary": ("相談概要", "相談内容", "概要"),
    "response": ("回答", "助言", "対応内容", "支援内容", "内容"),
    "issues": ("課題", "問題点"),
    "policy": ("方針", "今後の方針", "対応方針"),
    "effect": ("効果", "成果"),
    "materials": ("資料", "使用資料", "ツール"),
    "next_plan": ("次回", "次回予定", "今後の予定"),
    "hours": ("時間", "実施時間", "支援時間"),
}


class LLMReport(BaseModel):
    attendees: str = ""
    summary: str = ""
    response: str = ""
    issues: str = ""
    policy: str = ""
    effect: str = ""
    materials: str = ""
    next_plan: str = ""


PREAMBLE = "_preamble"


def parse_labelled_notes(text: str) -> dict[str, str]:
    """Lines like 「課題：人員不足」 or 「【効果】…」 mapped to report fields (offline).

    Lines before the first label are returned under ``PREAMBLE``: they answer the question
    the bot had just asked.
    """
    out: dict[str, str] = {}
    current: str | None = PREAMBLE
    for raw in normalize(text).splitlines():
        line = raw.strip()
        if not line:
            continue
        m = re.match(r"^[【\[■・\-*]*\s*([^:：】\]]{1,10})\s*[】\]]?\s*[:：]?\s*(.*)$", line)
        key = None
        if m:
            head = m.group(1).strip()
            for k, aliases in LABEL_ALIASES.items():
                if head in aliases:
                    key = k
                    break
        if key is not None and m is not None:
            current = key
            rest = m.group(2).strip()
            out[key] = (out.get(key, "") + "\n" + rest).strip() if rest else out.get(key, "")
        elif current is not None:
            out[current] = (out.get(current, "") + "\n" + line).strip()
    return {k: v for k, v in out.items() if v}


def jst_day(at: dt.datetime) -> dt.date:
    """The JST calendar day of a stored time. Times come back from the store in UTC, where a
    session at 08:30 JST is still the day before."""
    return at.astimezone(JST).date()


def session_when(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    """A session's day and hours as labels show them (two sessions of one case on one day
    differ by their times): 「2026年11月19日(木) 14:00〜15:00」."""
    return f"{format_jp_datetime(starts_at)}〜{ends_at.astimezone(JST).strftime('%H:%M')}"


def parse_hours(text: str) -> float | None:
    m = re.search(r"(\d+(?:\.\d+)?)", normalize(text))
    if not m:
        return None
    value = float(m.group(1))
    return value if 0 < value <= 24 else None


async def session_facts(s: Session, session: SupportSession) -> dict[str, Any]:
    """What the bot already knows about a session, for the report's first fields."""
    munis, experts = await session_store.participant_names(s, session.id)
    return {
        "municipalities": "、".join(munis),
        "datetime": f"{format_jp_datetime(session.starts_at)}〜"
        f"{session.ends_at.astimezone(JST).strftime('%H:%M')}",
        "method": extract.METHOD_LABELS.get(session.method, session.method),
        "place": session.place or "（なし）",
        "responders": "、".join(experts),
        "hours": f"{session.hours:g}",
    }


def build_record(munis: list[list[str]], fields: dict[str, Any]) -> dict[str, Any]:
    """The stored report (``munis``: the [code, name] pairs asked separately, if any): with
    several municipalities, their own parts in BY_MUNICIPALITY and
    joined under the usual keys (so exports and the combined view stay complete)."""
    record = {k: v for k, v in fields.items() if "@" not in k}
    if not munis:
        return record
    sections: dict[str, dict[str, str]] = {}
    for code, name in munis:
        sections[code] = {"name": name}
        sections[code].update(
            {k: str(fields.get(f"{k}@{code}", "")) for k in PER_MUNICIPALITY_KEYS}
        )
    for k in PER_MUNICIPALITY_KEYS:
        record[k] = "\n".join(f"【{sec['name']}】{sec[k]}" for sec in sections.values())
    record[BY_MUNICIPALITY] = sections
    return record


def looks_like_notes(text: str) -> bool:
    return len(text) >= NOTES_MIN_CHARS or text.count("\n") >= 2
