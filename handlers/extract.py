"""What an officer's first message already says: municipality, domains, method, dates.

Two paths with one result type: the LLM port (structured output validated by pydantic, masked
input) when configured, and a rule-based reader that always runs, so a slow or wrong model never
blocks intake. The LLM may only add fields the rules did not find; its domains must be names
from the taxonomy and its municipality must be a known one, or they are dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from bot.core.catalog import t
from bot.core.dates import DateMention, normalize, parse_dates
from bot.core.llm import LLM
from store.reference import DomainRef

METHOD_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("onsite", ("訪問", "来庁", "来て", "現地", "対面", "直接", "出張", "オンサイト")),
    ("online", ("オンライン", "web会議", "ウェブ会議", "zoom", "teams", "リモート", "ビデオ")),
    ("email", ("メール", "e-mail", "email")),
    ("chat", ("チャット", "logo", "slack")),
    ("phone", ("電話", "tel")),
)

# How support can be given, labelled from the message catalogue (one home for the words).
METHODS = ("online", "onsite", "email", "chat", "phone")
METHOD_LABELS = {m: t(f"sv_method_{m}") for m in METHODS}

TITLE_WORDS = (
    "部長",
    "次長",
    "課長補佐",
    "課長",
    "室長",
    "係長",
    "主幹",
    "主査",
    "主任",
    "主事",
    "技師",
    "参事",
    "専門員",
    "担当",
)


@dataclass
class Extracted:
    municipality_candidates: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    ambiguous_with_prefecture: bool = False
    department: str = ""
    requester_name: str = ""
    requester_title: str = ""
    domains: list[str] = field(default_factory=list)
    method: str = ""
    dates: list[DateMention] = field(default_factory=list)
    description: str = ""


class LLMIntake(BaseModel):
    """The structured answer asked of the LLM (validated; unknown values are dropped)."""

    domains: list[str] = Field(default_factory=list, description="names from the given list")
    method: str = Field(default="", description="online|onsite|email|chat|phone or empty")
    department: str = ""
    requester_title: str = ""
    summary: str = Field(default="", description="one-sentence Japanese summary of the request")


def find_method(text: str) -> str:
    low = normalize(text).lower()
    for method, words in METHOD_WORDS:
        if any(w in low for w in words):
            return method
    return ""


ASCII_WORD = re.compile(r"[A-Za-z0-9-]+")


MEETING_WAY = re.compile(
    r"(?:web会議|ウェブ会議|ビデオ会議|オンライン会議|リモート会議|zoom|teams|リモート|オンライン)"
    r"\s*(?:で|にて|形式|での|による|を希望|希望|の打合せ|の打ち合わせ|の面談|の会議|会議)"
)


def _has_keyword(keyword: str, low: str) -> bool:
    """A latin keyword (AI, CIO, BPR, QR) must stand as a word of its own: as a bare substring,
    "ai" matched every Saitama e-mail address (city.saitama.lg.jp) and "mail" itself."""
    k = keyword.lower()
    if not ASCII_WORD.fullmatch(k):
        return k in low
    return re.search(rf"(?<![a-z]){re.escape(k)}(?![a-z])", low) is not None


def find_domains(text: str, taxonomy: Sequence[DomainRef], extra: Iterable[str] = ()) -> list[str]:
    """Domains whose name or keywords occur in the text, best match first. How the meeting is
    to be held (「Web会議で」「リモートでの打合せ」) says nothing about the subject: those words
    are not read as the テレワーク domain."""
    low = MEETING_WAY.sub(" ", normalize(text).lower())
    scored: list[tuple[int, int, str]] = []
    for i, d in enumerate(taxonomy):
        hits = sum(1 for k in d.keywords if _has_keyword(k, low)) + (3 if d.name in text else 0)
        if hits:
            scored.append((-hits, i, d.name))
    for j, name in enumerate(extra):
        stem = re.sub(r"[（(].*?[)）]", "", name)
        if stem and stem.lower() in low:
            scored.append((-4, len(taxonomy) + j, name))
    return [name for _, _, name in sorted(scored)][:3]


def find_municipalities(
    text: str, municipalities: Sequence[tuple[str, str]], prefecture: str
) -> tuple[list[tuple[str, str]], bool]:
    """Municipalities named in the text; also whether the prefecture's own name could be meant.

    "山形" alone may be 山形県 or 山形市: both are reported so the bot asks.
    """
    norm = normalize(text)
    found: list[tuple[str, str]] = []
    for code, name in municipalities:
        if name in norm:
            found.append((code, name))
    if found:
        # 山形県 written in full is the prefecture, not 山形市.
        return found, False
    stem_pref = prefecture.rstrip("都道府県")
    stems: list[tuple[str, str]] = []
    for code, name in municipalities:
        stem = name[:-1]
        if len(stem) >= 2 and re.search(re.escape(stem) + r"(?![市町村県])", norm):
            stems.append((code, name))
    ambiguous = bool(stems) and any(name[:-1] == stem_pref for _, name in stems)
    return stems, ambiguous


def find_title(text: str) -> str:
    norm = normalize(text)
    for w in TITLE_WORDS:
        if w in norm:
            return w
    return ""


def find_department(text: str) -> str:
    m = re.search(
        r"([\w・]{1,12}?(?:課|室|部|局|センター))(?:の|で|から|より|です|、|\s)", normalize(text)
    )
    return m.group(1) if m else ""


def rule_extract(
    text: str,
    today: dt.date,
    taxonomy: Sequence[DomainRef],
    extra_domains: Iterable[str],
    municipalities: Sequence[tuple[str, str]],
    prefecture: str,
) -> Extracted:
    candidates, ambiguous = find_municipalities(text, municipalities, prefecture)
    return Extracted(
        municipality_candidates=candidates,
        ambiguous_with_prefecture=ambiguous,
        department=find_department(text),
        requester_title=find_title(text),
        domains=find_domains(text, taxonomy, extra_domains),
        method=find_method(text),
        dates=parse_dates(text, today),
        description=text.strip() if looks_like_request(text) else "",
    )


def looks_like_request(text: str) -> bool:
    """A first message long enough to be the consultation's description itself."""
    norm = normalize(text)
    return len(norm) >= 12 and not norm.startswith("/")


LLM_INSTRUCTIONS = (
    "あなたは自治体DX相談窓口の受付係です。市町村職員の相談文から、次の項目を抽出して JSON で返してください。"
    "domains は与えられた分野リストの名称のみ（最大3つ）、method は online/onsite/email/chat/phone のいずれか"
    "（不明なら空）、department は部署名、requester_title は役職、summary は相談内容の一文要約。"
    "分野リスト: {domains}"
)


async def llm_extract(
    llm: LLM, text: str, domain_names: Sequence[str], names: Iterable[str]
) -> LLMIntake | None:
    if not llm.enabled:
        return None
    answer = await llm.extract(
        LLM_INSTRUCTIONS.format(domains="、".join(domain_names)), text, LLMIntake, names
    )
    if answer is None:
        return None
    allowed = set(domain_names)
    answer.domains = [d for d in answer.domains if d in allowed][:3]
    if answer.method not in METHOD_LABELS:
        answer.method = ""
    return answer


def merge(rules: Extracted, model: LLMIntake | None) -> Extracted:
    """Rules win where they found something; the model fills the gaps."""
    if model is None:
        return rules
    if not rules.domains:
        rules.domains = model.domains
    if not rules.method:
        rules.method = model.method
    if not rules.department:
        rules.department = model.department[:60]
    if not rules.requester_title:
        rules.requester_title = model.requester_title[:40]
    return rules
