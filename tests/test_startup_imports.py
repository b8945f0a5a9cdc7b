"""`dxbot deck` starts without what it does not use: no handler and no chat wiring (bot.app),
no Alembic when the schema is current, no openpyxl, no Pillow. Each cost a tenth of a second to most of a
second at every start (README, bench_deck); this fails when an import brings one back, naming
the module, rather than the command silently slowing down."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ENV_KEYS

# PIL.ExifTags and PIL._imaging run only when Pillow's Image module is executed (python-pptx
# imports it for pictures; reports.deck.lazy_pillow defers it).
UNWANTED = ("bot.app", "handlers", "alembic", "openpyxl", "PIL.ExifTags", "PIL._imaging")

CHECK = """
import sys
from bot.cli import main

code = main(sys.argv[1:])
loaded = sorted(
    m for m in sys.modules if any(m == u or m.startswith(u + ".") for u in {unwanted!r})
)
print("LOADED", " ".join(loaded))
sys.exit(code)
"""


def _python(args: list[str], database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def test_dxbot_deck_imports_no_handler_no_alembic_and_no_openpyxl(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'deck.db'}"
    seeded = _python(["-m", "bot.cli", "seed", "--demo"], url, tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    out = tmp_path / "completion.pptx"
    args = ["deck", "--kind", "completion", "--out", str(out)]
    done = _python(["-c", CHECK.format(unwanted=UNWANTED), *args], url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0
    loaded = done.stdout.split("LOADED", 1)[1].split()
    assert loaded == [], f"dxbot deck imported {loaded}; import them lazily where they are used"


PICTURE = """
import io
import reports.deck  # defers Pillow
from PIL import Image
from pptx import Presentation
from pptx.util import Inches

png = io.BytesIO()
Image.new("RGB", (40, 20), "red").save(png, format="PNG")
prs = Presentation()
slide = prs.slides.add_slide(prs.slide_layouts[6])
pic = slide.shapes.add_picture(io.BytesIO(png.getvalue()), Inches(1), Inches(1))
print(pic.image.size, pic.image.content_type)
"""


def test_a_deck_can_still_add_a_picture_after_pillow_was_deferred(tmp_path: Path) -> None:
    """Deferred is not removed: python-pptx reads a picture with the real Pillow on first use."""
    done = _python(["-c", PICTURE], "sqlite+aiosqlite://", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["(40,", "20)", "image/png"]
