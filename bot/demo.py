"""Demo data for a newcomer: people, and a plausible half year of cases, sessions, reports and
surveys, every row marked ``is_demo`` so it can be told apart and removed.

Deterministic (seeded by program id) so two runs of `dxbot seed --demo` give the same picture.
It keeps to the program's rules as staff would have to (store/rules.py): every session lies
within the term and by the last day of service, in the day's session window, within the hours
ceiling, with an expert who may be booked for its method, in a municipality its track serves,
and under the per-municipality caps — so decks (clipped to the term) and /status agree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass

from bot.demo_engagements import add_demo_engagements
from bot.demo_structure import add_demo_structure
from reminders.calendar import BusinessCalendar
from reminders.clock import JST
from store import cases, reference, rules, sessions, users
from store.db import Session
from store.models import Case, Municipality
from store.profiles import ProgramProfile, Track
from store.reference import domains
from store.seed import SeedResult, seed_program
from store.stages_demo import add_demo_stages


@dataclass(frozen=True)
class DemoPerson:
    platform_id: str
    role: str
    name: str
    title: str = ""
    municipality_index: int | None = None


PEOPLE = (
    DemoPerson("officer1", "officer", "山田 花子", "主査", 0),
    DemoPerson("officer2", "officer", "高橋 健一", "係長", 5),
    DemoPerson("staff1", "staff", "佐藤 美咲", "事務局PM"),
    DemoPerson("pref1", "prefecture", "鈴木 一郎", "DX推進課 主幹"),
    DemoPerson("admin1", "admin", "管理者"),
)

EXPERTS = (
    ("expert1", "田中 誠", ["ITコーディネータ"], True),
    ("expert2", "伊藤 由美", ["応用情報技術者"], True),
    ("expert3", "渡辺 拓也", ["情報処理安全確保支援士"], False),
    ("expert4", "中村 京子", ["ITコーディネータ", "PMP"], True),
    ("expert5", "小林 大輔", ["中小企業診断士"], True),
    ("expert6", "加藤 直美", ["応用情報技術者"], False),
    ("expert7", "吉田 剛", ["ITストラテジスト"], True),
    ("expert8", "山本 彩", ["G検定"], False),
)

TOPICS = {
    "組織体制の整備": "全庁的なDX推進体制（CDO補佐官の設置）を検討したい",
    "デジタル専門人材の確保・育成": "DX推進リーダー育成研修の設計について相談したい",
    "方針・計画の策定": "DX推進計画の改定に向けたKPIの立て方を知りたい",
    "自治体フロントヤード改革": "書かない窓口の導入手順と効果測定について相談したい",
    "情報システムの標準化・共通化": "基幹業務システムの標準化移行の課題整理をしたい",
    "公金収納におけるeL-QRの活用": "eL-QRを使った公金収納の導入準備を進めたい",
    "マイナンバーカードの普及促進・利用の推進": "マイナンバーカードを活用した証明書コンビニ交付の拡大",
    "セキュリティ対策の徹底": "情報セキュリティポリシーの見直しと職員研修",
    "自治体のAIの利用促進": "生成AIの庁内利用ガイドラインを作りたい",
    "テレワークの推進": "テレワーク環境とルールの整備について",
    "地域社会のデジタル化": "地域の公共交通予約のデジタル化を検討している",
    "デジタルデバイド対策": "高齢者向けスマホ教室の企画について",
    "BPRの取組の徹底": "窓口業務のBPR（業務フロー見直し）を進めたい",
    "オープンデータ・官民データ活用": "オープンデータの公開範囲と形式を整理したい",
    "ICT-BCP": "災害時のICT-BCP策定について相談したい",
}

EFFECTS = (
    "課題が整理され、次年度予算要求の方向性が定まった",
    "担当課と情報政策課の役割分担が明確になった",
    "導入に向けたスケジュール案ができた",
    "庁内説明資料の骨子を作成できた",
)


async def add_people(s: Session, munis: list[Municipality], now: dt.datetime) -> dict[str, int]:
    ids: dict[str, int] = {}
    for p in PEOPLE:
        code = (
            munis[p.municipality_index % len(munis)].code
            if p.municipality_index is not None
            else None
        )
        u = await users.add(
            s,
            platform="console",
            platform_id=p.platform_id,
            role=p.role,
            now=now,
            municipality_code=code,
            name=p.name,
            title=p.title,
            department="デジタル推進課" if p.role == "officer" else "",
            is_demo=True,
            update=True,
        )
        ids[p.platform_id] = u.id
    names = [d.name for d in domains()]
    for i, (pid, name, quals, onsite) in enumerate(EXPERTS):
        u = await users.add(
            s,
            platform="console",
            platform_id=pid,
            role="expert",
            now=now,
            name=name,
            is_demo=True,
            update=True,
        )
        await users.upsert_expert_profile(
            s,
            u,
            domains=[names[(i * 2 + k) % len(names)] for k in range(4)],
            qualifications=quals,
            onsite=onsite,
            region="県内" if onsite else "オンラインのみ",
            consent_listed=True,
            availability="平日 9:00-17:00",
        )
        ids[pid] = u.id
    return ids


def _session_start(
    rng: random.Random, cal: BusinessCalendar, day: dt.date, hours: float
) -> dt.datetime:
    """An open day's start hour (a long session, such as a day of 8 h, starts at 9:00)."""
    day = cal.next_open_day(day, include_self=True)
    hour = rng.choice((10, 13, 14, 15)) if hours <= 4 else 9
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=JST)


def _method(track: Track) -> str:
    return track.default_method if track.default_method in ("online", "onsite") else "online"


async def add_history(
    s: Session,
    profile: ProgramProfile,
    munis: list[Municipality],
    people: dict[str, int],
    now: dt.datetime,
) -> int:
    """About six months of activity ending now (or the term's end, if earlier)."""
    rng = random.Random(profile.id)
    cal = BusinessCalendar(profile.closed_days)
    end = min(now.date(), profile.service_end)
    start = max(profile.term_start, end - dt.timedelta(days=182))
    experts = [people[e[0]] for e in EXPERTS]
    officer_muni = {people["officer1"]: munis[0].code}
    topic_names = list(TOPICS)
    tracks = [t for t in profile.tracks if t.kind != "hearing"] or list(profile.tracks)
    span = (end - start).days or 1
    n_cases = 36
    made = 0
    booked: dict[tuple[str, str], int] = {}  # (track, municipality) -> sessions, for the caps
    for i in range(n_cases):
        track: Track = tracks[i % len(tracks)]
        opened_day = start + dt.timedelta(days=int(span * i / n_cases))
        opened = dt.datetime.combine(opened_day, dt.time(9, 30), tzinfo=JST)
        served = [
            m
            for m in munis
            if rules.municipality_refusal(track, [m.code], {}) is None
            and booked.get((track.id, m.code), 0) < (track.per_municipality_cap or n_cases)
        ]
        if not served:
            continue
        muni = served[0] if i % 6 == 0 else rng.choice(served)
        topic = topic_names[rng.randrange(len(topic_names))]
        case = await cases.create(
            s,
            program_id=profile.id,
            prefix=profile.case_prefix,
            year=profile.fiscal_year,
            track_id=track.id,
            municipality_code=muni.code,
            now=opened,
            requester_user_id=people["officer1"] if muni.code in officer_muni.values() else None,
            department="デジタル推進課",
            requester_name="山田 花子" if muni.code == munis[0].code else "担当者",
            requester_title="主査",
            domains=[topic],
            description=TOPICS[topic],
            preferred_method=track.default_method,
            is_demo=True,
        )
        made += 1
        held = await _advance(s, rng, cal, profile, track, case, experts, opened, now, people)
        booked[track.id, muni.code] = booked.get((track.id, muni.code), 0) + held
    return made


async def _advance(
    s: Session,
    rng: random.Random,
    cal: BusinessCalendar,
    profile: ProgramProfile,
    track: Track,
    case: Case,
    experts: list[int],
    opened: dt.datetime,
    now: dt.datetime,
    people: dict[str, int],
) -> int:
    """Move one demo case along; the number of sessions it got."""
    staff = people["staff1"]
    if rng.random() < 0.08:
        await cases.set_status(
            s,
            case,
            "withdrawn",
            now=opened + dt.timedelta(days=2),
            actor_user_id=staff,
            actor_label="事務局",
        )
        return 0
    await cases.set_status(
        s,
        case,
        "coordinating",
        now=opened + dt.timedelta(hours=3),
        actor_user_id=staff,
        actor_label="事務局",
    )
    n_sessions = 1 if track.kind in ("consultation", "dispatch") else rng.randint(2, 4)
    day = opened.date() + dt.timedelta(days=rng.randint(5, 12))
    method = _method(track)
    # Only experts the rules let us book for this method (every demo expert consented).
    able = [
        uid
        for uid, (_, _, _, onsite) in zip(experts, EXPERTS, strict=True)
        if method != "onsite" or onsite
    ]
    expert = able[rng.randrange(len(able))]
    # As matching would have left it: the chosen (and, where required, approved) expert.
    case.proposed_expert_user_id = case.approved_expert_user_id = expert
    made = 0
    for _ in range(n_sessions):
        starts = _session_start(rng, cal, day, track.default_hours)
        if starts > now + dt.timedelta(days=14) or starts.date() > profile.service_end:
            break
        due = cal.add_open_days(starts.date(), track.report_open_days)
        if case.status in ("coordinating", "reported"):
            await cases.set_status(
                s,
                case,
                "scheduled",
                now=min(starts, now) - dt.timedelta(days=3),
                actor_user_id=staff,
                actor_label="事務局",
            )
        sess = await sessions.create(
            s,
            program_id=profile.id,
            case_id=case.id,
            track_id=track.id,
            starts_at=starts,
            hours=track.default_hours,
            method=method,
            place="オンライン（Teams）" if method != "onsite" else "庁舎会議室",
            report_due=due,
            municipality_codes=[case.municipality_code],
            expert_user_ids=[expert],
            now=opened,
            is_demo=True,
        )
        made += 1
        ends = starts + dt.timedelta(hours=track.default_hours)
        if ends > now:
            return made
        sess.status = "done"
        await cases.set_status(s, case, "held", now=ends, actor_user_id=None, actor_label="自動")
        submitted = cal.add_open_days(starts.date(), rng.choice((1, 2, 3, 4, 5, 6)))
        submitted_at = dt.datetime.combine(submitted, dt.time(16, 0), tzinfo=JST)
        if submitted_at > now:
            return made
        await sessions.add_report(
            s,
            sess,
            _report_fields(rng, case, starts, track),
            author_user_id=expert,
            now=submitted_at,
            is_demo=True,
        )
        await cases.set_status(
            s, case, "reported", now=submitted_at, actor_user_id=expert, actor_label="専門人材"
        )
        answered = submitted_at + dt.timedelta(days=rng.randint(1, 6))
        if answered <= now and rng.random() < 0.8:
            await sessions.add_survey(
                s,
                sess.id,
                respondent_user_id=None,
                satisfaction=rng.choice((3, 4, 4, 5, 5)),
                resolved=rng.choice(("resolved", "partly", "partly", "not_yet")),
                comment=rng.choice(("大変参考になりました", "具体的な助言で助かった", "")),
                requested_at=submitted_at,
                answered_at=answered,
                is_demo=True,
            )
        day = starts.date() + dt.timedelta(days=rng.randint(14, 28))
    if case.status == "reported" and rng.random() < 0.7:
        await cases.set_status(
            s,
            case,
            "closed",
            now=min(now, case.updated_at + dt.timedelta(days=7)),
            actor_user_id=staff,
            actor_label="事務局",
        )
    return made


def _report_fields(
    rng: random.Random, case: Case, starts: dt.datetime, track: Track
) -> dict[str, object]:
    return {
        "summary": case.description,
        "response": "現状と課題をヒアリングし、他団体の事例を紹介して進め方を助言した",
        "issues": "担当課の人員不足と、庁内の合意形成の進め方",
        "policy": "次回までに現行業務フローを整理し、優先順位を決める",
        "effect": rng.choice(EFFECTS),
        "materials": "事例紹介資料（PDF）",
        "next_plan": "2週間後にオンラインで進捗確認",
        "attendees": "デジタル推進課 主査 ほか2名",
        "hours": track.default_hours,
    }


async def seed_demo(s: Session, profile: ProgramProfile, now: dt.datetime) -> tuple[int, int]:
    """Add demo people and history unless this program already has demo cases."""
    munis = await reference.loaded_municipalities(s, profile.prefecture_code)
    people = await add_people(s, munis, now)
    if await cases.has_demo(s, profile.id):
        return len(people), 0
    made = await add_history(s, profile, munis, people, now)
    await add_demo_engagements(s, profile, now)  # the plans agreed on engagement tracks' cases
    await add_demo_stages(s, profile, now)  # where they are along the profile's stage model
    # Meetings and events held, their deliverables, one 議事録 late (bot/demo_structure.py).
    await add_demo_structure(s, profile, BusinessCalendar(profile.closed_days), now)
    return len(people), made


async def seed_with_demo(
    s: Session, profile: ProgramProfile, now: dt.datetime, *, demo: bool = True
) -> SeedResult:
    """`dxbot seed [--demo]`: the program's reference data, then (with ``demo``) the demo
    people and half a year of demo cases. Idempotent like ``store.seed.seed_program``."""
    result = await seed_program(s, profile, now)
    if not demo:
        return result
    people, n_cases = await seed_demo(s, profile, now)
    return dataclasses.replace(result, demo_people=people, demo_cases=n_cases)
