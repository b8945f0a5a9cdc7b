"""Profiles from a folder (DXBOT_PROFILES_DIR) beside the shipped ones (issue 13, item 1): found
by the id they declare, validated in the loader's words, and refused on a clash of ids with both
files named. The embedded default's program is the one profile flagged ``demo_default``."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel

from bot.app import load_program
from bot.core.config import Settings
from store.profiles import (
    ProfileError,
    ProfileSource,
    ProgramProfile,
    available_programs,
    default_program,
    load_profile,
)
from tests.test_unseen_profile import PROFILE, PROFILE_ID

SHIPPED = ["kumamoto-2026", "miyazaki-2025", "nagano-2024", "saitama-2026", "yamagata-2026"]


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text, encoding="utf-8")
    return folder


def _settings(**env: str) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


def test_a_folder_profile_loads_beside_the_shipped_ones(tmp_path: Path) -> None:
    # The file's name is the administrator's choice: the id inside it is what counts.
    folder = _folder(tmp_path, next_year__yaml=PROFILE, README__txt="not a profile")
    profile = load_profile(PROFILE_ID, folder)
    assert (profile.id, profile.prefecture, profile.track("soudan").report_open_days) == (
        "tottori-2027",
        "鳥取県",
        7,
    )
    listed = available_programs(folder)
    assert [p.id for p in listed] == [*SHIPPED[:3], "saitama-2026", "tottori-2027", SHIPPED[4]]
    assert listed[4] == ProfileSource("tottori-2027", str(folder / "next_year.yaml"), "folder")
    assert listed[3].where == "shipped"
    assert listed[3].path.endswith(os.path.join("store", "profiles", "saitama-2026.yaml"))
    # The shipped ones still load with the folder set, and without it nothing else is known.
    assert load_profile("nagano-2024", folder).prefecture == "長野県"
    assert [p.id for p in available_programs()] == SHIPPED


def test_an_unknown_program_names_every_known_one(tmp_path: Path) -> None:
    folder = _folder(tmp_path, a__yml=PROFILE)
    with pytest.raises(ProfileError) as err:
        load_profile("tottori-2026", folder)
    assert str(err.value) == (
        "Unknown program 'tottori-2026'. Known programs: kumamoto-2026, miyazaki-2025, "
        "nagano-2024, saitama-2026, tottori-2027, yamagata-2026."
    )


def test_a_folder_profile_with_a_shipped_id_is_refused_naming_both_files(tmp_path: Path) -> None:
    # Last year's Saitama file copied for next year, its id left unchanged.
    shipped = Path(available_programs()[3].path)
    folder = _folder(tmp_path, saitama_2027__yaml=shipped.read_text(encoding="utf-8"))
    with pytest.raises(ProfileError) as err:
        load_profile("saitama-2026", folder)
    assert str(err.value) == (
        f"Profile {folder / 'saitama_2027.yaml'} has id 'saitama-2026', which the shipped "
        f"profile {shipped} already has; each program needs its own id (change 'id' and "
        "'fiscal_year')."
    )


def test_two_folder_files_with_one_id_are_refused_naming_both(tmp_path: Path) -> None:
    folder = _folder(tmp_path, a__yaml=PROFILE, b__yaml=PROFILE)
    with pytest.raises(ProfileError) as err:
        available_programs(folder)
    assert str(err.value) == (
        f"Profile {folder / 'b.yaml'} has id 'tottori-2027', which the profile "
        f"{folder / 'a.yaml'} already has; each program needs its own id (change 'id' and "
        "'fiscal_year')."
    )


def test_a_broken_folder_profile_is_refused_with_the_file_the_field_and_the_problem(
    tmp_path: Path,
) -> None:
    folder = _folder(
        tmp_path, bad__yaml=PROFILE.replace("report_open_days: 7", "report_open_days: 0")
    )
    with pytest.raises(ProfileError) as err:
        load_profile("saitama-2026", folder)  # any load: the folder is validated as a whole
    assert str(err.value) == (
        f"Profile {folder / 'bad.yaml'} is invalid: field 'tracks.0.report_open_days': "
        "Input should be greater than or equal to 1"
    )
    unquoted = PROFILE.replace('office_end: "17:15"', "office_end: 17:15")
    (folder / "bad.yaml").write_text(unquoted, encoding="utf-8")
    os.utime(folder / "bad.yaml", ns=(1, 2))  # a new mtime even on a coarse clock
    with pytest.raises(ProfileError) as err:
        load_profile(PROFILE_ID, folder)
    assert str(err.value) == (
        f"Profile {folder / 'bad.yaml'} is invalid: field 'reminders.office_end': "
        'Value error, write a time of day in quotes, e.g. "17:15"'
    )


def test_an_edited_folder_profile_is_read_again(tmp_path: Path) -> None:
    folder = _folder(tmp_path, p__yaml=PROFILE)
    assert load_profile(PROFILE_ID, folder).track("soudan").per_municipality_cap == 3
    (folder / "p.yaml").write_text(
        PROFILE.replace("per_municipality_cap: 3", "per_municipality_cap: 4"), encoding="utf-8"
    )
    os.utime(folder / "p.yaml", ns=(1, 3))
    assert load_profile(PROFILE_ID, folder).track("soudan").per_municipality_cap == 4


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as err:
        available_programs(tmp_path / "nowhere")
    assert str(err.value) == (
        f"Profiles folder {tmp_path / 'nowhere'} (DXBOT_PROFILES_DIR) does not exist or is not "
        "a folder."
    )


def test_the_demo_program_is_the_flagged_profile_unless_dxbot_program_says(
    tmp_path: Path,
) -> None:
    assert default_program() == "saitama-2026"
    assert load_program(_settings()).id == "saitama-2026"
    assert load_program(_settings(DXBOT_PROGRAM="", DXBOT_PROFILES_DIR="")).id == "saitama-2026"
    folder = _folder(tmp_path, t__yaml=PROFILE)
    env = {"DXBOT_PROFILES_DIR": str(folder)}
    assert load_program(_settings(**env)).id == "saitama-2026"
    assert load_program(_settings(DXBOT_PROGRAM=PROFILE_ID, **env)).id == PROFILE_ID
    assert load_program(_settings(**env), "kumamoto-2026").id == "kumamoto-2026"  # --program

    (folder / "t.yaml").write_text(PROFILE + "demo_default: true\n", encoding="utf-8")
    os.utime(folder / "t.yaml", ns=(1, 4))
    with pytest.raises(ProfileError) as err:
        load_program(_settings(**env))
    shipped = available_programs()[3].path
    assert str(err.value) == (
        f"Profiles {shipped} and {folder / 't.yaml'} all say 'demo_default: true'; only one "
        "may (or set DXBOT_PROGRAM)."
    )
    assert load_program(_settings(DXBOT_PROGRAM="nagano-2024", **env)).id == "nagano-2024"


# --- the reference cannot rot ----------------------------------------------------------------


def _models(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """``model`` and every model its fields hold, by class name."""
    found = {model.__name__: model}
    for info in model.model_fields.values():
        stack: list[object] = [info.annotation]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                if tp.__name__ not in found:
                    found |= _models(tp)
            else:
                stack.extend(get_args(tp))
    return found


def test_every_profile_field_is_in_the_reference() -> None:
    """docs/profile.md has a section per model ("## `…` — Track") and a row per field."""
    doc = (Path(__file__).parents[1] / "docs" / "profile.md").read_text(encoding="utf-8")
    sections = {
        heading.split(" — ")[-1].strip(): body
        for heading, _, body in (
            part.partition("\n") for part in re.split(r"^#{2,3} ", doc, flags=re.MULTILINE)[1:]
        )
    }
    models = _models(ProgramProfile)  # a model added later is found here and must be documented
    assert set(models) >= {
        "ProgramProfile",
        "Track",
        "ReportRule",
        "Deadlines",
        "ReminderPolicy",
        "SurveyPolicy",
        "StageModel",
        "Stage",
        "OnsiteMinimum",
        "SessionWindow",
    }
    missing = [
        f"{name}.{field}"
        for name, model in models.items()
        for field in model.model_fields
        if f"| `{field}` |" not in sections.get(name, "")
    ]
    assert missing == [], f"document these profile fields in docs/profile.md: {missing}"
