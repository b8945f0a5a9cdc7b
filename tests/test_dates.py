"""bot.core.dates: real phrasings from municipal officers, each pinned to concrete dates/times."""

from __future__ import annotations

import dataclasses
import random
import time as _time
from datetime import date, datetime, time

import pytest

from bot.core.dates import DateMention, normalize, parse_dates, parse_one_date

SUN = date(2026, 11, 22)  # a Sunday: its week is 11-16..11-22, 来週 is 11-23..11-29
DEC = date(2026, 12, 20)  # a Sunday in late December: year rollover
WED = date(2027, 3, 10)  # a Wednesday: its week is 3-08..3-14
NYE = date(2026, 12, 31)  # a Thursday, the last day of the year
JAN31 = date(2027, 1, 31)  # a Sunday, the last day of a month

D = date.fromisoformat


def T(s: str | None) -> time | None:
    return None if s is None else time.fromisoformat(s)


# (text, today, [(day, part, start, end), ...])
CASES: list[tuple[str, date, list[tuple[str, str | None, str | None, str | None]]]] = [
    # --- weeks (Monday-start) and weekdays
    (
        "電子契約の共同調達について相談したいです。オンラインで来週火曜の午後希望",
        SUN,
        [("2026-11-24", "pm", None, None)],
    ),
    ("来週の火曜日でお願いします", SUN, [("2026-11-24", None, None, None)]),
    ("来週火曜日 14時から伺えます", SUN, [("2026-11-24", None, "14:00", None)]),
    ("今週金曜なら空いています", WED, [("2027-03-12", None, None, None)]),
    ("今週金曜に送付済みです", SUN, [("2026-11-20", None, None, None)]),
    ("再来週の月曜の午前中", SUN, [("2026-11-30", "am", None, None)]),
    ("さ来週の水曜日", WED, [("2027-03-24", None, None, None)]),
    ("次の水曜はいかがでしょうか", WED, [("2027-03-17", None, None, None)]),
    ("水曜の夕方でも大丈夫です", SUN, [("2026-11-25", "evening", None, None)]),
    ("週明けにお電話します", WED, [("2027-03-15", None, None, None)]),
    ("来週の月曜日、朝一で", SUN, [("2026-11-23", "am", None, None)]),
    ("来週月曜", NYE, [("2027-01-04", None, None, None)]),
    (
        "来週火・水曜が候補です",
        SUN,
        [("2026-11-24", None, None, None), ("2026-11-25", None, None, None)],
    ),
    (
        "来週火曜か水曜の10時〜12時",
        SUN,
        [("2026-11-24", None, "10:00", "12:00"), ("2026-11-25", None, "10:00", "12:00")],
    ),
    ("来週金曜か月曜", SUN, [("2026-11-27", None, None, None), ("2026-11-23", None, None, None)]),
    (
        "12月3日(木)か金曜",
        SUN,
        [("2026-12-03", None, None, None), ("2026-12-04", None, None, None)],
    ),
    # --- relative days
    ("明日の10時半から", SUN, [("2026-11-23", None, "10:30", None)]),
    ("あさっての午後2時", SUN, [("2026-11-24", "pm", "14:00", None)]),
    ("明後日", NYE, [("2027-01-02", None, None, None)]),
    ("今日中に資料を送ります", SUN, [("2026-11-22", None, None, None)]),
    ("本日15:00〜16:30でWeb会議", SUN, [("2026-11-22", None, "15:00", "16:30")]),
    (
        "明日は無理ですが明後日なら",
        SUN,
        [("2026-11-23", None, None, None), ("2026-11-24", None, None, None)],
    ),
    (
        "明日か明後日の午後",
        SUN,
        [("2026-11-23", "pm", None, None), ("2026-11-24", "pm", None, None)],
    ),
    ("3日後の午前", SUN, [("2026-11-25", "am", None, None)]),
    # --- absolute forms
    ("12月3日(木)14時〜16時でお願いします", SUN, [("2026-12-03", None, "14:00", "16:00")]),
    ("12/3(木) 13:00-15:00", SUN, [("2026-12-03", None, "13:00", "15:00")]),
    ("2026/12/3 午前中", SUN, [("2026-12-03", "am", None, None)]),
    ("2026-12-03", SUN, [("2026-12-03", None, None, None)]),
    ("2026年12月3日の夕方", SUN, [("2026-12-03", "evening", None, None)]),
    ("12月3日 木曜日 午後", SUN, [("2026-12-03", "pm", None, None)]),
    ("12月の3日", SUN, [("2026-12-03", None, None, None)]),
    ("十二月三日に訪問予定", SUN, [("2026-12-03", None, None, None)]),
    # --- era years and full-width input
    ("令和8年12月3日", SUN, [("2026-12-03", None, None, None)]),
    ("令和８年１２月３日（木）", SUN, [("2026-12-03", None, None, None)]),
    ("令和八年十二月三日", SUN, [("2026-12-03", None, None, None)]),
    ("R8.12.3 10:00〜", SUN, [("2026-12-03", None, "10:00", None)]),
    ("R8/12/3", SUN, [("2026-12-03", None, None, None)]),
    ("Ｒ８．１２．３", SUN, [("2026-12-03", None, None, None)]),
    ("令和元年5月1日", SUN, [("2019-05-01", None, None, None)]),
    ("平成31年4月30日", SUN, [("2019-04-30", None, None, None)]),
    ("H31.4.30", SUN, [("2019-04-30", None, None, None)]),
    ("１２月３日　１４時", SUN, [("2026-12-03", None, "14:00", None)]),
    ("１２／３（木）１４：００～１６：００", SUN, [("2026-12-03", None, "14:00", "16:00")]),
    # --- year and month boundaries
    ("1月8日", DEC, [("2027-01-08", None, None, None)]),
    ("1/8(金)午後", DEC, [("2027-01-08", "pm", None, None)]),
    ("12月25日", DEC, [("2026-12-25", None, None, None)]),
    ("12月20日", DEC, [("2026-12-20", None, None, None)]),
    ("12月19日", DEC, [("2027-12-19", None, None, None)]),
    ("5日でどうでしょう", DEC, [("2027-01-05", None, None, None)]),
    ("25日", DEC, [("2026-12-25", None, None, None)]),
    ("31日", JAN31, [("2027-01-31", None, None, None)]),
    ("30日", JAN31, []),  # next month has no 30th
    ("来年1月8日", NYE, [("2027-01-08", None, None, None)]),
    ("1月1日", NYE, [("2027-01-01", None, None, None)]),
    ("2月29日", WED, [("2028-02-29", None, None, None)]),
    ("来月末まで", JAN31, [("2027-02-28", None, None, None)]),
    (
        "12月28日〜1月5日は閉庁です",
        DEC,
        [("2026-12-28", None, None, None), ("2027-01-05", None, None, None)],
    ),
    ("12月30日〜2日", DEC, [("2026-12-30", None, None, None), ("2027-01-02", None, None, None)]),
    # --- month-relative
    ("今月25日", SUN, [("2026-11-25", None, None, None)]),
    ("来月3日の午後", DEC, [("2027-01-03", "pm", None, None)]),
    ("来月の第2水曜", SUN, [("2026-12-09", None, None, None)]),
    ("来月の第1月曜日 10時", DEC, [("2027-01-04", None, "10:00", None)]),
    # --- ranges and lists
    ("12月3日〜5日", SUN, [("2026-12-03", None, None, None), ("2026-12-05", None, None, None)]),
    ("12/3-5の午前中", SUN, [("2026-12-03", "am", None, None), ("2026-12-05", "am", None, None)]),
    ("12月3・4日の午後", SUN, [("2026-12-03", "pm", None, None), ("2026-12-04", "pm", None, None)]),
    (
        "12月3日か4日の午後",
        SUN,
        [("2026-12-03", "pm", None, None), ("2026-12-04", "pm", None, None)],
    ),
    ("12/1〜12/3", SUN, [("2026-12-01", None, None, None), ("2026-12-03", None, None, None)]),
    (
        "12月3日(木)10:00-12:00、4日(金)13時〜",
        SUN,
        [("2026-12-03", None, "10:00", "12:00"), ("2026-12-04", None, "13:00", None)],
    ),
    (
        "11月30日(月)は終日不在のため、12月1日(火)の午後か2日(水)の午前でお願いします",
        SUN,
        [
            ("2026-11-30", "allday", None, None),
            ("2026-12-01", "pm", None, None),
            ("2026-12-02", "am", None, None),
        ],
    ),
    # --- times
    ("明日午後2時〜4時", SUN, [("2026-11-23", "pm", "14:00", "16:00")]),
    ("明日14〜16時", SUN, [("2026-11-23", None, "14:00", "16:00")]),
    ("明日3時に伺います", SUN, [("2026-11-23", None, "15:00", None)]),
    ("明日16時までなら", SUN, [("2026-11-23", None, None, "16:00")]),
    ("明日9時〜5時", SUN, [("2026-11-23", None, "09:00", "17:00")]),
    ("明日14時以降", SUN, [("2026-11-23", None, "14:00", None)]),
    ("明日正午", SUN, [("2026-11-23", None, "12:00", None)]),
    ("明日夜7時", SUN, [("2026-11-23", "evening", "19:00", None)]),
    ("明日の午前中、10時から", SUN, [("2026-11-23", "am", "10:00", None)]),
    ("12/3 10am-12pm", SUN, [("2026-12-03", "am", "10:00", "12:00")]),
    ("12/3 PM2:00", SUN, [("2026-12-03", "pm", "14:00", None)]),
    ("12月3日 14時30分〜15時", SUN, [("2026-12-03", None, "14:30", "15:00")]),
    ("12月3日 2時間程度", SUN, [("2026-12-03", None, None, None)]),
    ("12月3日 1日中", SUN, [("2026-12-03", "allday", None, None)]),
    ("明日の朝霞市役所での打合せ", SUN, [("2026-11-23", None, None, None)]),
    # --- not dates / bad input
    ("", SUN, []),
    ("未定", SUN, []),
    ("いつでも大丈夫です", SUN, []),
    ("日程は調整中です。午後2時〜4時なら可能", SUN, []),
    ("2月30日に", SUN, []),
    ("令和8年2月29日", SUN, []),
    ("13/1", SUN, []),
    ("3日間の研修", SUN, []),
    ("2、3日中にご連絡します", SUN, []),
    ("1〜3日で対応", SUN, []),
    ("毎週月曜は定例会です", SUN, []),
    ("週3日勤務", SUN, []),
    ("毎月5日締め", SUN, []),
    ("1日中対応可能", SUN, []),
    ("電話 03-1234-5678", SUN, []),
    ("12月\x003日\u200b14時", SUN, [("2026-12-03", None, "14:00", None)]),
]


def _shape(ms: list[DateMention]) -> list[tuple[str, str | None, str | None, str | None]]:
    return [
        (
            m.day.isoformat(),
            m.part,
            m.start.strftime("%H:%M") if m.start else None,
            m.end.strftime("%H:%M") if m.end else None,
        )
        for m in ms
    ]


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize(("text", "today", "expected"), CASES, ids=[c[0][:30] for c in CASES])
def test_phrasings(
    text: str, today: date, expected: list[tuple[str, str | None, str | None, str | None]]
) -> None:
    assert _shape(parse_dates(text, today)) == expected


def test_mention_fields() -> None:
    (m,) = parse_dates("オンラインで来週火曜の午後希望", SUN)
    assert m == DateMention(
        day=D("2026-11-24"), part="pm", start=None, end=None, text="来週火曜の午後"
    )
    assert m.weekday_mismatch is False
    assert "オンラインで来週火曜の午後希望"[m.span[0] : m.span[1]] == m.text
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.day = SUN  # type: ignore[misc]


def test_text_is_normalized_substring() -> None:
    (m,) = parse_dates("ご都合は１２月３日（木）午後２時～でしょうか", SUN)
    assert m.text == "12月3日(木)午後2時"
    assert (m.day, m.part, m.start, m.end) == (D("2026-12-03"), "pm", T("14:00"), None)


def test_weekday_mismatch_keeps_date() -> None:
    (m,) = parse_dates("12月3日（金）でお願いします", SUN)  # 2026-12-03 is a Thursday
    assert m.day == D("2026-12-03")
    assert m.weekday_mismatch is True
    (ok,) = parse_dates("12月3日(木曜日)", SUN)
    assert ok.weekday_mismatch is False


def test_weekday_mismatch_on_range_end() -> None:
    a, b = parse_dates("12/3(木)-5(日)", SUN)  # 12-05 is a Saturday
    assert (a.day, a.weekday_mismatch) == (D("2026-12-03"), False)
    assert (b.day, b.weekday_mismatch) == (D("2026-12-05"), True)


def test_datetime_today_is_accepted() -> None:
    (m,) = parse_dates("明日", datetime(2026, 11, 22, 23, 59))
    assert m.day == D("2026-11-23")


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("2026-12-03", SUN, D("2026-12-03")),
        ("12/3", SUN, D("2026-12-03")),
        ("来週火曜でお願いします", SUN, D("2026-11-24")),
        ("12/3(木) 14時", SUN, D("2026-12-03")),
        ("令和８年１２月３日", SUN, D("2026-12-03")),
        ("1月8日", DEC, D("2027-01-08")),
        ("12/3 (12月3日)", SUN, D("2026-12-03")),  # same day twice is still one date
        ("12月3日か4日", SUN, None),
        ("12月3日〜5日", SUN, None),
        ("12月3日(金)", SUN, None),  # contradicting weekday: ask again
        ("2月30日", SUN, None),
        ("未定", SUN, None),
        ("", SUN, None),
    ],
)
def test_parse_one_date(text: str, today: date, expected: date | None) -> None:
    assert parse_one_date(text, today) == expected


def test_normalize() -> None:
    assert normalize("令和８年１２月３日（木）１４：００～") == "令和8年12月3日(木)14:00~"
    assert normalize("a\x00b\u200bc\nd\te") == "a b c\nd e"
    assert normalize("十二月三日") == "12月3日"
    assert normalize("令和元年") == "令和元年"
    assert normalize("㍻31年") == "平成31年"


_RNG = random.Random(7)
_ADVERSARIAL = [
    ("電子契約について。12月3日(木)14時〜16時、来週火曜の午後。" * 700)[:20000],
    "1" * 20000,
    "1/" * 10000,
    "12月" * 7000,
    "〜" * 20000,
    "14時〜" * 4000,
    "1月1、" * 4000,
    "(木" * 10000,
    "R1." * 7000,
    "12月" + " " * 20000 + "3日",
    "".join(chr(c % 32) for c in range(20000)),
    "".join(
        _RNG.choice("0123456789/-.:年月日時分半〜~ 、午後前(木)来週火曜第令和R")
        for _ in range(20000)
    ),
]


@pytest.mark.parametrize("text", _ADVERSARIAL, ids=range(len(_ADVERSARIAL)))
def test_long_and_hostile_input_is_fast(text: str) -> None:
    t0 = _time.perf_counter()
    mentions = parse_dates(text, SUN)
    parse_one_date(text, SUN)
    assert _time.perf_counter() - t0 < 1.0
    assert all(isinstance(m.day, date) for m in mentions)


def test_long_text_finds_every_mention() -> None:
    text = ("電子契約の共同調達について相談したいです。" * 500) + "来週火曜の午後希望"
    assert len(text) > 10000
    (m,) = parse_dates(text, SUN)
    assert (m.day, m.part) == (D("2026-11-24"), "pm")
