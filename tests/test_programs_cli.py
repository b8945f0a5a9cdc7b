"""`dxbot programs list|check` and `--program` with a profile from DXBOT_PROFILES_DIR (issue 13,
items 1-2): what an administrator runs to write, check and load next year's program."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from store.profiles import available_programs
from tests.conftest import ENV_KEYS
from tests.test_cli import DXBOT, main_in_process
from tests.test_unseen_profile import PROFILE

# The summary of the unseen profile, worked out from its YAML (tests/test_unseen_profile.py).
SUMMARY = (
    "{file} is a valid profile: tottori-2027 令和9年度市町村DX相談支援業務, 鳥取県 (code 31), "
    "term 2027-04-01 to 2028-03-31, chat on slack; 19 municipalities. "
    "Tracks: soudan DX相談 (consultation; target 40; at most 3 per municipality; "
    "1h by default, at most 8h; online by default of online/onsite; "
    "report 支援実施報告書 within 7開庁日 to the staff). "
    "Sessions between 08:00 and 20:00; matches approved by the staff. "
    "Monthly report due on day 15 of the next month, moved to the next 開庁日 when closed. "
    "Office hours 08:30-17:15; reminders 2開庁日 before a due date, the prefecture told after "
    "3開庁日 overdue; survey reminder after 3開庁日, closed after 10. "
    "Closed days besides weekends, holidays and 12/29-1/3: 2027-06-11, 2027-06-15."
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "profiles"
    d.mkdir()
    (d / "tottori-2027.yaml").write_text(PROFILE, encoding="utf-8")
    return d


def test_programs_list_shows_shipped_and_folder_profiles(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = main_in_process(("programs", "list"), capsys, DXBOT_PROFILES_DIR=str(folder))
    assert run.returncode == 0, run
    shipped = {p.id: p.path for p in available_programs()}
    assert run.stdout.splitlines() == [
        "id\tname\tprefecture\tterm\twhere\tfile",
        "kumamoto-2026\t令和8年度（2026年度）市町村へのデジタル人材派遣等業務委託\t熊本県\t"
        f"2026-04-01..2027-03-31\tshipped\t{shipped['kumamoto-2026']}",
        f"miyazaki-2025\t令和7年度自治体DXサポート強化業務\t宮崎県\t2025-04-01..2026-03-31\tshipped\t"
        f"{shipped['miyazaki-2025']}",
        f"nagano-2024\tデジタル・最先端技術活用推進事業業務\t長野県\t2024-08-15..2025-03-14\tshipped\t"
        f"{shipped['nagano-2024']}",
        f"saitama-2026\t令和8年度第2期埼玉県市町村DX推進支援業務\t埼玉県\t2026-04-01..2027-03-31\t"
        f"shipped\t{shipped['saitama-2026']}",
        f"tottori-2027\t令和9年度市町村DX相談支援業務\t鳥取県\t2027-04-01..2028-03-31\tfolder\t"
        f"{folder / 'tottori-2027.yaml'}",
        f"yamagata-2026\t令和8年度 県・市町村DX推進体制整備事業業務\t山形県\t2026-04-01..2027-03-31\t"
        f"shipped\t{shipped['yamagata-2026']}",
    ]
    # A clash in the folder stops the list, both files named, exit 2 like any refusal.
    (folder / "copy.yaml").write_text(PROFILE, encoding="utf-8")
    run = main_in_process(("programs", "list"), capsys, DXBOT_PROFILES_DIR=str(folder))
    assert (run.returncode, run.stdout) == (2, "")
    assert str(folder / "copy.yaml") in run.stderr
    assert str(folder / "tottori-2027.yaml") in run.stderr


def test_programs_check_summarises_a_sound_profile(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = folder / "tottori-2027.yaml"
    run = main_in_process(("programs", "check", str(path)), capsys)
    assert run.returncode == 0, run
    assert " ".join(run.stdout.split("\n")).strip() == SUMMARY.format(file=path)
    # Checking it where it already lies in the folder is no clash with itself.
    run = main_in_process(("programs", "check", str(path)), capsys, DXBOT_PROFILES_DIR=str(folder))
    assert run.returncode == 0, run


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ("report_open_days: 7", "report_open_days: 31"),
            "field 'tracks.0.report_open_days': Input should be less than or equal to 30",
        ),
        (
            (
                "monthly_report_closed_day_rule: next_open_day",
                "monthly_report_closed_day_rule: next",
            ),
            "field 'deadlines.monthly_report_closed_day_rule': Input should be 'as_is', "
            "'next_open_day' or 'previous_open_day'",
        ),
        (
            ('office_start: "08:30"', 'office_start: "18:30"'),
            "field 'reminders': Value error, office_start must be before office_end",
        ),
        (("target: 40", "taget: 40"), "field 'tracks.0.taget': Extra inputs are not permitted"),
        (
            ("prefecture: 鳥取県", "prefecture: 島根県"),
            "field 'prefecture': code 31 is 鳥取県, not 島根県",
        ),
    ],
)
def test_programs_check_refuses_with_the_file_the_field_and_the_problem(
    change: tuple[str, str],
    problem: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert change[0] in PROFILE
    path = tmp_path / "draft.yaml"
    path.write_text(PROFILE.replace(*change), encoding="utf-8")
    run = main_in_process(("programs", "check", str(path)), capsys)
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == f"error: Profile {path} is invalid: {problem}\n"


def test_programs_check_refuses_last_years_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The usual slip: last year's file copied, its id left as it was."""
    shipped = {p.id: p.path for p in available_programs()}
    path = tmp_path / "saitama-2027.yaml"
    path.write_text(Path(shipped["saitama-2026"]).read_text(encoding="utf-8"), encoding="utf-8")
    run = main_in_process(("programs", "check", str(path)), capsys)
    assert run.returncode == 1
    assert run.stderr == (
        f"error: Profile {path} has id 'saitama-2026', which the shipped profile "
        f"{shipped['saitama-2026']} already has; each program needs its own id (change 'id' "
        "and 'fiscal_year').\n"
    )
    missing = tmp_path / "missing.yaml"
    run = main_in_process(("programs", "check", str(missing)), capsys)
    assert (run.returncode, run.stderr) == (
        1,
        f"error: Profile file {missing} cannot be read: No such file or directory\n",
    )


def test_an_unknown_program_lists_the_folder_ones_too(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = main_in_process(
        ("calendar", "due", "2027-06-08", "--program", "tottori-2028"),
        capsys,
        DXBOT_PROFILES_DIR=str(folder),
    )
    assert run.returncode == 2
    assert run.stderr == (
        "error: Unknown program 'tottori-2028'. Known programs: kumamoto-2026, miyazaki-2025, "
        "nagano-2024, saitama-2026, tottori-2027, yamagata-2026.\n"
    )


def test_seed_calendar_and_remind_with_a_folder_profile(folder: Path, tmp_path: Path) -> None:
    """As an operator runs it: the installed `dxbot`, the folder in the environment."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env |= {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'next.db'}",
        "DXBOT_PROFILES_DIR": str(folder),
        "DXBOT_PROGRAM": "tottori-2027",
        "PYTHONIOENCODING": "utf-8",
        "DXBOT_LOG_LEVEL": "WARNING",
    }

    def dxbot(*args: str) -> str:
        proc = subprocess.run(
            [DXBOT, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert (proc.returncode, proc.stderr) == (0, ""), proc
        return proc.stdout

    dxbot("db", "upgrade")
    assert dxbot("seed", "--program", "tottori-2027") == (
        "Program tottori-2027 loaded (19 municipalities added).\n"
    )
    # 7開庁日 from Tue 2027-06-08 past the closed 6/11 and 6/15 (tests/test_unseen_profile.py).
    assert dxbot("calendar", "due", "2027-06-08") == "2027-06-21\n"
    # The May report is due on the 15th, closed: the next 開庁日 6/16, chased from 6/9.
    out = dxbot("remind", "--now", "2027-06-09T08:30")
    assert "queued: staff monthly report 2027-05 before" in out
    assert "2027年5月分の月例業務報告の期限は2027年6月16日(水)です。" in out
