"""Japanese date and time mentions in free text ("来週火曜の午後", "12/3(木)14時〜16時", "R8.12.3").

Pure parsing: every relative phrase is resolved against an injected ``today``; nothing here reads
the clock. The input is first passed through :func:`normalize` (NFKC, control characters to
spaces, kanji numerals in "十二月三日" / "令和八年" to digits), and ``DateMention.text`` /
``DateMention.span`` refer to that normalized text.

Rules chosen for ambiguous phrasings
------------------------------------
* Month/day without a year (12月3日, 12/3): this year if that day is not before ``today``,
  otherwise next year (in December, "1月15日" is next January). A weekday in brackets never moves
  the date; a contradicting one sets ``weekday_mismatch``.
* Bare day (3日): this month if ``day >= today.day``, otherwise next month. If the day does not
  exist in that month ("31日" in April) there is no mention.
* A bare day or a bare weekday directly connected to the previous mention (by 、・か や と または
  〜 から - … or only spaces) continues it: "12月3日か4日" → 12/4, "12月30日〜2日" → 1/2,
  "来週火曜か水曜" → Wednesday of that same week, "12月3日(木)か月曜" → the Monday after 12/3.
* Weeks start on Monday. 今週 is the Monday–Sunday week containing ``today``, 来週/翌週/次週 the
  one after, 再来週 the one after that, 先週 the one before. So on Sunday 2026-11-22, 来週火曜 is
  2026-11-24 and 今週金曜 is 2026-11-20 (already past: returned as written, not moved).
* 次の水曜 / 今度の水曜 / a bare 水曜 / 週明け (Monday): the first such day strictly after ``today``.
* 今月N日 / 来月N日 / 先月N日 are taken literally, even if in the past.
* Ranges produce their two end days only: "12月3日〜5日", "12/3-5", "12月3〜5日" → 12/3 and 12/5;
  lists produce every listed day ("12月3・4日", "来週火・水曜").
* A time or part of day written after the *last* of several connected dates applies to all of
  them when none of the earlier ones has its own ("3日か4日の午後" → both afternoon).
* ``part`` is set only by an explicit word: 午前/午前中/朝/AM → "am", 午後/昼過ぎ/PM → "pm",
  夕方/夜 → "evening", 終日/一日中/丸一日 → "allday". A bare "14時" leaves ``part`` None.
* Hours: 午後/PM/夕方/夜 add 12 to 1–11; 午前12時 is 0:00; 午後12時 is 12:00; 正午 is 12:00.
  An unmarked 1–6時 is taken as afternoon (13–18時) - nobody books a desk at 3 a.m.; an unmarked
  end hour is moved to the afternoon when that makes it later than the start ("午後2時〜4時",
  "10時〜3時" → until 15:00). 10時半 is 10:30.
* 14時から / 14時以降 / 14時〜 give only ``start``; 16時まで / 〜16時 give only ``end``.
* Era years: 令和N = 2018+N, 平成N = 1988+N, 昭和N = 1925+N, 元年 = 1; R/H/S abbreviations too.
  The era's real boundaries are not checked (平成31年5月1日 is accepted as 2019-05-01).
* Impossible dates (2月30日, 13/1) yield no mention. Durations and counts are not dates:
  3日間, 2日目, 週3日, 2、3日, 1〜3日, 1日あたり, 毎月5日, 毎週月曜. "N日後" is ``today + N``.
* Not understood: kanji day numbers on their own (三日), 上旬/中旬/下旬, bare years/months
  (令和8年度, 12月), and times that come *before* their date.
"""

from bot.core.dates.parse import DateMention, Part, parse_dates, parse_one_date
from bot.core.dates.patterns import normalize

__all__ = ["DateMention", "Part", "normalize", "parse_dates", "parse_one_date"]
