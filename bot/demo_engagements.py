"""Demo engagements: for each engagement track of the program, the plan agreed with some of its
demo municipalities, so `/status`, `/dx engage`, `/dx plan` and the deck show engaged vs
expected and the municipalities not yet served on `make run`.

Deterministic (seeded by program and track) and varied: most engagements are complete, one
has no deliverables or planned count yet, and at least one has NO goal (取組目標) — where the
profile sets ``goal_set_by_session``, the one whose case held the most sessions, so the goal
reminder has something to say. About a quarter of each track's expected municipalities is left
unserved. Only demo cases are used, each once; running it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random

from reminders.clock import JST
from store import engagements, reporting, rules
from store.db import Session
from store.models import Case
from store.profiles import ProgramProfile, Track

# (theme, goal, scope, deliverables) — what a municipality and the desk typically agree.
PLANS = (
    (
        "窓口業務のBPR（書かない窓口）",
        "転入手続の窓口滞在時間を3割短縮する",
        "市民課の転入・転居・証明書交付の手続",
        "現状業務フロー（As-Is）、改善後の業務フロー（To-Be）、改善策一覧",
    ),
    (
        "電子申請の拡大",
        "子育て関係の申請10手続をオンラインで受け付ける",
        "子育て支援課・こども家庭課の申請手続",
        "対象手続の一覧、導入計画書、職員向け操作手順書",
    ),
    (
        "DX推進体制の整備",
        "DX推進本部とCIO補佐官の設置を決定する",
        "企画課・情報政策担当と各課のDX推進員",
        "推進体制図、DX推進方針（簡易計画）",
    ),
    (
        "基幹業務システム標準化の移行支援",
        "標準準拠システムへの移行を期限内に完了する",
        "住民記録・税・福祉の20業務",
        "課題管理表、移行スケジュール（工程表）",
    ),
    (
        "電子契約システムの共同調達",
        "電子契約システムを共同で調達し運用を始める",
        "契約担当課と主要発注課",
        "調達仕様書案、運用マニュアル",
    ),
    (
        "生成AIの庁内活用",
        "全職員が使える生成AIの利用ガイドラインを定める",
        "全庁（情報政策課が事務局）",
        "利用ガイドライン、研修資料",
    ),
)


def _target(track: Track) -> int:
    """Engage about three quarters of what the track expects, leaving some not yet served."""
    expected = track.expected_municipalities or 0
    return max(1, expected - max(1, expected // 4))


async def _candidates(
    s: Session, profile: ProgramProfile, track: Track, now: dt.datetime
) -> list[tuple[Case, int]]:
    """The first demo case of each municipality the track serves, with its held sessions."""
    held = {
        c.id: c.held
        for c in await reporting.case_rows(
            s, profile.id, now, window=reporting.counting_window(profile)
        )
    }
    seen: set[str] = set()
    out = []
    for case in await engagements.demo_cases(s, profile.id, track.id):
        if case.municipality_code in seen:
            continue
        if rules.municipality_refusal(track, [case.municipality_code], {}) is not None:
            continue
        seen.add(case.municipality_code)
        out.append((case, held.get(case.id, 0)))
    return out


async def add_demo_engagements(s: Session, profile: ProgramProfile, now: dt.datetime) -> int:
    """Record the demo engagements of every engagement track; the number made."""
    if await engagements.has_demo(s, profile.id):
        return 0
    made = 0
    goal_by = profile.stage_model.goal_set_by_session if profile.stage_model else None
    for track in engagements.engagement_tracks(profile):
        rng = random.Random(f"{profile.id}:{track.id}")
        chosen = (await _candidates(s, profile, track, now))[: _target(track)]
        if not chosen:
            continue
        # The one without a goal: the most sessions held where a goal is due by a session
        # (the reminder's demo), otherwise the second one (or the only one).
        if goal_by is not None:
            no_goal = max(range(len(chosen)), key=lambda i: (chosen[i][1], -i))
        else:
            no_goal = 1 if len(chosen) > 1 else 0
        offset = rng.randrange(len(PLANS))
        for i, (case, _held) in enumerate(chosen):
            theme, goal, scope, deliverables = PLANS[(offset + i) % len(PLANS)]
            opened = case.opened_at.astimezone(JST)
            start = max(opened.date() + dt.timedelta(days=7), profile.term_start)
            changes: dict[str, object] = {
                "theme": theme,
                "scope": scope,
                "start_on": min(start, profile.service_end),
                "planned_sessions": 10 if track.kind == "bpr" else rng.choice((5, 6, 8, 12)),
                "deliverables": deliverables,
            }
            if i == 2:  # agreed in part so far: what will be handed over is still open
                changes["deliverables"] = ""
                changes["planned_sessions"] = None
            recorded = min(now, opened + dt.timedelta(days=3))
            await engagements.save(s, case, changes, now=recorded, actor="事務局", is_demo=True)
            if i != no_goal:
                agreed = min(now, opened + dt.timedelta(days=rng.randint(14, 35)))
                await engagements.save(s, case, {"goal": goal}, now=agreed, actor="事務局")
            made += 1
    return made
