"""Each track's ``report_open_days`` sets its report deadline and so its whole reminder chase.

Every shipped profile says 5, so a mistake that ignores the field (a hard-coded 5) would pass
every other test. Here a variant of the Saitama profile gives 人材派遣 (haken) 3 開庁日 and the
相談窓口 (soudan, the default track) 10; the dates below were worked out by hand on the 開庁日
calendar (weekends, national holidays, 12/29–1/3 closed):

- haken, session Thu 2026-11-19 14:00–16:00. Open days after it: Fri 11/20 (1), Tue 11/24 (2;
  Mon 11/23 is 勤労感謝の日), Wed 11/25 (3) → due **2026-11-25**. Two 開庁日 before: 11/20.
  Overdue days: 11/26 (1), 11/27 (2), Mon 11/30 (3, the prefecture is told).
- soudan, session Thu 2026-12-17 10:00–11:00. Open days: 12/18, 12/21, 12/22, 12/23, 12/24,
  12/25, 12/28 (7), then 12/29–1/3 closed, 1/4 (8), 1/5 (9), 1/6 (10) → due **2027-01-06**.
  Two 開庁日 before: Mon 1/4. Overdue: 1/7 (1), Fri 1/8 (2), Tue 1/12 (3; Mon 1/11 is 成人の日).
- `/dx due 2026-11-19` on the default track (10): 11/20, 11/24, 11/25, 11/26, 11/27, 11/30,
  12/1, 12/2, 12/3, 12/4 → 2026年12月4日(金).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import build_services, remind_once, system_context
from bot.core.config import Settings
from handlers.scheduling import SessionRequest, schedule_session
from reminders.clock import JST, FixedClock
from store import cases as case_store
from store.models import Municipality, SupportSession
from store.profiles import ProgramProfile, load_profile
from store.seed import seed_program
from tests.conftest import ChatBot, RecordingSender
from tests.test_reminder_pass import person, to


def variant() -> ProgramProfile:
    shipped = load_profile("saitama-2026")
    days = {"haken": 3, "soudan": 10}
    tracks = tuple(
        t.model_copy(update={"report_open_days": days.get(t.id, t.report_open_days)})
        for t in shipped.tracks
    )
    return shipped.model_copy(update={"tracks": tracks})


@pytest.fixture
async def desk(
    settings: Settings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ChatBot]:
    """The bot on the variant profile, with the demo people."""
    from bot.demo import add_people

    profile = variant()
    # The one place a program's profile is loaded for the services (bot.services.load_program).
    monkeypatch.setattr("bot.services.load_profile", lambda _program_id, _folder=None: profile)
    services = build_services(settings, clock=clock)
    assert services.profile.track("haken").report_open_days == 3
    async with services.db.transaction() as s:
        await seed_program(s, profile, clock.now())
        munis = list(
            (
                await s.scalars(
                    select(Municipality)
                    .where(Municipality.prefecture_code == "11")
                    .order_by(Municipality.code)
                )
            ).all()
        )
        await add_people(s, munis, clock.now())
    yield ChatBot(services, RecordingSender())
    await services.db.dispose()


async def _schedule(
    bot: ChatBot, track: str, start: dt.datetime, hours: float, method: str
) -> tuple[str, SupportSession]:
    """Staff schedule a session through the one scheduling rule set (chat and CLI share it)."""
    services = bot.services
    officer = await person(services, "officer1")
    expert = await person(services, "expert1")
    async with services.db.transaction() as s:  # type: ignore[attr-defined]
        case = await case_store.create(
            s,
            program_id=services.profile.id,  # type: ignore[attr-defined]
            prefix="SAI",
            year=2026,
            track_id=track,
            municipality_code=officer.municipality_code or "",
            now=services.clock.now(),  # type: ignore[attr-defined]
            requester_user_id=officer.id,
            description="窓口業務の見直しを相談したい",
        )
        session = await schedule_session(
            system_context(services, s),  # type: ignore[arg-type]
            SessionRequest(case, [expert.id], start, hours, method),
        )
        return case.case_no, session


async def _chase(
    bot: ChatBot, clock: FixedClock, case_no: str, first: dt.date, last: dt.date
) -> list[str]:
    """A pass at 09:00 and 16:30 on every day from ``first`` to ``last``: when, who and which
    step of ``case_no``'s report was sent (the monthly report's reminders are not ours here)."""
    log: list[str] = []
    day = first
    while day <= last:
        for hour, minute in ((9, 0), (16, 30)):
            clock.set(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=JST))
            for line in (await remind_once(bot.services)).sent:  # type: ignore[arg-type]
                if case_no not in line:
                    continue
                who, step = line.split()[0].split(":")[0], line.split()[-1]
                log.append(f"{day:%m-%d} {hour:02d}:{minute:02d} {who} {step}")
        day += dt.timedelta(days=1)
    await bot.deliver()
    return log


async def test_a_three_day_track_is_due_and_chased_three_open_days_after(
    desk: ChatBot, clock: FixedClock
) -> None:
    case_no, session = await _schedule(
        desk, "haken", dt.datetime(2026, 11, 19, 14, 0, tzinfo=JST), 2, "onsite"
    )
    assert session.report_due == dt.date(2026, 11, 25)

    log = await _chase(desk, clock, case_no, dt.date(2026, 11, 19), dt.date(2026, 12, 1))

    assert log == [
        "11-19 16:30 expert request",
        "11-20 09:00 expert before_due",
        "11-25 09:00 expert due_day",
        "11-26 09:00 expert overdue:1",
        "11-26 09:00 staff overdue:1",
        "11-27 09:00 expert overdue:2",
        "11-27 09:00 staff overdue:2",
        "11-30 09:00 expert overdue:3",
        "11-30 09:00 staff overdue:3",
        "11-30 09:00 prefecture prefecture",
        "12-01 09:00 expert overdue:4",
        "12-01 09:00 staff overdue:4",
    ]
    scheduled, request = [m.text for m in to(desk, "expert1")][:2]
    assert "報告期限: 2026年11月25日(水)" in scheduled
    assert (
        f"{case_no}（2026年11月19日(木) 14:00〜16:00実施）期限 2026年11月25日(水) — あと3開庁日"
        in request
    )


async def test_a_ten_day_track_runs_over_the_new_year_closure(
    desk: ChatBot, clock: FixedClock
) -> None:
    case_no, session = await _schedule(
        desk, "soudan", dt.datetime(2026, 12, 17, 10, 0, tzinfo=JST), 1, "online"
    )
    assert session.report_due == dt.date(2027, 1, 6)

    log = await _chase(desk, clock, case_no, dt.date(2026, 12, 17), dt.date(2027, 1, 12))

    assert log == [
        "12-17 16:30 expert request",
        "01-04 09:00 expert before_due",
        "01-06 09:00 expert due_day",
        "01-07 09:00 expert overdue:1",
        "01-07 09:00 staff overdue:1",
        "01-08 09:00 expert overdue:2",
        "01-08 09:00 staff overdue:2",
        "01-12 09:00 expert overdue:3",
        "01-12 09:00 staff overdue:3",
        "01-12 09:00 prefecture prefecture",
    ]
    scheduled, request = [m.text for m in to(desk, "expert1")][:2]
    assert "報告期限: 2027年1月6日(水)" in scheduled
    assert (
        f"{case_no}（2026年12月17日(木) 10:00〜11:00実施）期限 2027年1月6日(水) — あと10開庁日"
        in request
    )


async def test_dx_due_answers_with_the_default_tracks_days(desk: ChatBot) -> None:
    (answer,) = await desk.say("staff1", "/dx due 2026-11-19")
    assert answer.text == (
        "2026年11月19日(木)に実施した支援の報告期限は、10開庁日後の2026年12月4日(金)です。"
    )
