"""Normalisation and the regular expressions of the Japanese date parser (see ``bot.core.dates``).

Kept apart from the resolution rules so each file reads on its own: this one says what the
parser recognises, ``parse.py`` what each match means.
"""

from __future__ import annotations

import re
import unicodedata

# --------------------------------------------------------------------------- normalization

_KANJI_DIGIT = {
    "〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_KNUM = "[〇零一二三四五六七八九十]"
_KANJI_MD_RE = re.compile(rf"(?<!{_KNUM})({_KNUM}{{1,3}})月({_KNUM}{{1,3}})日")
_KANJI_ERA_RE = re.compile(rf"(令和|平成|昭和)(元|{_KNUM}{{1,3}})年")


def _kanji_int(s: str) -> int | None:
    """一 → 1, 十二 → 12, 二十三 → 23, 三一 → 31 (positional); None if malformed."""
    if "十" in s:
        tens, _, ones = s.partition("十")
        if "十" in ones or len(tens) > 1 or len(ones) > 1:
            return None
        t = _KANJI_DIGIT[tens] if tens else 1
        return t * 10 + (_KANJI_DIGIT[ones] if ones else 0)
    if len(s) > 2:
        return None
    return int("".join(str(_KANJI_DIGIT[c]) for c in s))


def _kanji_md(m: re.Match[str]) -> str:
    mo, d = _kanji_int(m[1]), _kanji_int(m[2])
    return m[0] if mo is None or d is None else f"{mo}月{d}日"


def _kanji_era(m: re.Match[str]) -> str:
    if m[2] == "元":
        return m[0]
    y = _kanji_int(m[2])
    return m[0] if y is None else f"{m[1]}{y}年"


def normalize(text: str) -> str:
    """NFKC (full-width digits/letters/brackets → ASCII, ㍻ → 平成), every control / format /
    unassigned character except newline → a space, and kanji numerals in "十二月三日" and
    "令和八年" → digits."""
    s = unicodedata.normalize("NFKC", text)
    if not s.isprintable():
        s = "".join(c if c == "\n" or unicodedata.category(c)[0] != "C" else " " for c in s)
    if "月" in s:
        s = _KANJI_MD_RE.sub(_kanji_md, s)
    if "年" in s:
        s = _KANJI_ERA_RE.sub(_kanji_era, s)
    return s


# --------------------------------------------------------------------------- patterns

_TOKENS = {
    "§S": r"[ \t]{0,3}",  # bounded whitespace: no regex can scan far
    "§WD": "[月火水木金土日]",
    "§DASH": r"[~〜\-−‐–—ー]",
    "§AMPM": r"(?<![A-Za-z])[AaPp]\.?[Mm]\.?(?![A-Za-z])",
    "§ANTE": r"(?<![A-Za-z])[Aa]\.?[Mm]\.?(?![A-Za-z])",
    "§POST": r"(?<![A-Za-z])[Pp]\.?[Mm]\.?(?![A-Za-z])",
    "§KANJI": "[一-鿿]",
}


def _rx(pattern: str) -> re.Pattern[str]:
    for token, value in _TOKENS.items():
        pattern = pattern.replace(token, value)
    return re.compile(pattern, re.X)


_DATE_RE = _rx(
    r"""
    (?P<era>
      (?:(?P<era_n>令和|平成|昭和)|(?<![A-Za-z])(?P<era_a>[RHSrhs]))§S(?P<era_y>元|\d{1,2})§S
      (?:年§S(?P<era_m1>\d{1,2})§S月§S(?P<era_d1>\d{1,2})§S日
        |(?P<era_sep>[./\-])§S(?P<era_m2>\d{1,2})§S(?P=era_sep)§S(?P<era_d2>\d{1,2})(?![\d.])
      )
    )
    |(?P<ymd>(?<![\d./\-])(?P<ymd_y>\d{4})§S
      (?:年§S(?P<ymd_m1>\d{1,2})§S月§S(?P<ymd_d1>\d{1,2})§S日
        |(?P<ymd_sep>[./\-])§S(?P<ymd_m2>\d{1,2})§S(?P=ymd_sep)§S(?P<ymd_d2>\d{1,2})(?![\d./])
      )
    )
    |(?P<yrel>(?P<yrel_w>再来年|今年|本年|来年|翌年)§Sの?§S
      (?P<yrel_m>\d{1,2})§S月§S(?P<yrel_d>\d{1,2})§S日)
    |(?P<nth>(?:(?P<nth_w>再来月|今月|来月|翌月)|(?<![\d/.])(?P<nth_m>\d{1,2})§S月)§Sの?§S
      第§S(?P<nth_n>[1-5])§S(?:(?P<nth_wd>[月火水木金土])(?:曜日?)?|日曜日?))
    |(?P<mend>(?:(?P<mend_w>再来月|今月|来月|翌月)§Sの?§S|(?<![\d/.])(?P<mend_m>\d{1,2})§S月§Sの?§S
      |(?<![今来翌先毎隔再\d])月)末)
    |(?P<mdl>(?<![\d/.])(?P<mdl_m>\d{1,2})§S月§Sの?§S
      (?P<mdl_ds>(?:\d{1,2}§S(?:[・、,]|§DASH|から|か)§S){1,6}\d{1,2})§S日)
    |(?P<md>(?<![\d/.])(?P<md_m>\d{1,2})§S月§Sの?§S(?P<md_d>\d{1,2})§S日)
    |(?P<mds>(?<![\d/.:\-A-Za-z])(?P<mds_m>\d{1,2})/(?P<mds_d>\d{1,2})(?![\d/]|\.\d))
    |(?P<mrel>(?P<mrel_w>再来月|今月|来月|翌月|先月)§Sの?§S(?P<mrel_d>\d{1,2})§S日)
    |(?P<wk>(?P<wk_w>再来週|さ来週|今週|来週|翌週|次週|先週)§Sの?§S
      (?P<wk_wds>§WD(?:[・,、]§WD)*)曜日?)
    |(?P<nx>(?:次回|次|今度)§Sの§S(?P<nx_wd>§WD)曜日?)
    |(?P<wka>週明け)
    |(?P<rel>明々後日|明明後日|しあさって|明後日|あさって|明日|あした|今日|本日|昨日)
    |(?P<dafter>(?<![\d/.、,・])(?P<dafter_n>\d{1,3})§S日後)
    |(?P<bd>(?<![\d/.第週約毎月年数])(?P<bd_d>\d{1,2})§S日
      (?!間|後|前|目|以内|以上|未満|程度|ほど|くらい|ぐらい|分|あたり|当たり|おき|置き|ごと|毎|\d))
    |(?P<bw>(?<!毎週)(?<!隔週)(?<![第毎])(?P<bw_wd>§WD)曜日?)
    """
)
_KINDS = (
    "era", "ymd", "yrel", "nth", "mend", "mdl", "md", "mds",
    "mrel", "wk", "nx", "wka", "rel", "dafter", "bd", "bw",
)  # fmt: skip
# Kinds that end in a day number, so "12/3-5" may continue them with a bare number.
_NUMERIC = frozenset({"era", "ymd", "yrel", "md", "mds", "mrel", "bd"})

_WEEKDAY_AFTER_RE = _rx(
    r"""§S(?:[(\[【〔<]§S(?P<wds>§WD(?:曜日?)?(?:§S[・,、/]§S§WD(?:曜日?)?){0,6})§S[)\]】〕>]
         |(?P<wd>§WD)曜日?)"""
)
_WD_CHAR_RE = re.compile("([月火水木金土日])(?:曜日?)?")
_TAIL_RE = _rx(
    r"""§S(?:§DASH|から)§S(?P<d>\d{1,2})
        (?=$|[\s、,。!?()\[\]【】〔〕<・]|まで|の|で|に|は|を|が|か|頃|ごろ|午|夕|終|朝)"""
)
_GAP_RE = _rx(r"[ \t、,]{0,3}(?:の|は|で|に|なら|であれば|でしたら)?[ \t、,]{0,3}")
_MARK = r"午前|午後|朝(?!§KANJI)|夕方|夜(?!§KANJI)|§AMPM"
_TIME_RE = _rx(
    rf"""(?P<pre>{_MARK})?§S
    (?:(?P<h1>\d{{1,2}})§S:§S(?P<m1>\d{{2}})(?!\d)
      |(?P<h2>\d{{1,2}})§S時(?!間|期|点|代|給|刻)(?:§S(?:(?P<half>半)|(?P<m2>\d{{1,2}})§S分))?
      |(?P<h3>\d{{1,2}})(?=§S§AMPM)
      |(?P<noon>正午)
    )
    (?:§S(?P<suf>§AMPM))?"""
)
_HOUR_RANGE_RE = _rx(rf"(?P<pre>{_MARK})?§S(?P<h>\d{{1,2}})§S(?:§DASH|から)§S(?=\d)")
_TSEP_RE = _rx(r"§S(?:§DASH|から|より)§S")
_UNTIL_RE = _rx(r"§S(?:まで|迄)")
_LEAD_DASH_RE = _rx(r"§DASH§S")
_PART_RE = _rx(
    r"""(?P<am>午前中|午前|朝イチ|朝一|朝(?!§KANJI)|§ANTE)
      |(?P<pm>午後イチ|午後一|午後|昼過ぎ|昼以降|§POST)
      |(?P<evening>夕方|夕刻|夜(?!§KANJI))
      |(?P<allday>終日|一日中|1日中|丸一日|丸1日|全日)"""
)
_CONNECT_RE = _rx(
    r"(?:[ \t、,・/~〜\-−‐–—ー]|か|や|と|または|又は|もしくは|若しくは|ないし|あるいは|から|より|まで|or|OR|and)*"
)
_MAX_GAP = 12

_WEEKDAYS = "月火水木金土日"
_ERA_BASE = {"令和": 2018, "平成": 1988, "昭和": 1925, "R": 2018, "H": 1988, "S": 1925}
_YEAR_OFFSET = {"今年": 0, "本年": 0, "来年": 1, "翌年": 1, "再来年": 2}
_MONTH_OFFSET = {"今月": 0, "来月": 1, "翌月": 1, "再来月": 2, "先月": -1}
_WEEK_OFFSET = {"今週": 0, "来週": 1, "翌週": 1, "次週": 1, "再来週": 2, "さ来週": 2, "先週": -1}
_DAY_OFFSET = {
    "昨日": -1, "今日": 0, "本日": 0, "明日": 1, "あした": 1, "明後日": 2, "あさって": 2,
    "明々後日": 3, "明明後日": 3, "しあさって": 3,
}  # fmt: skip
