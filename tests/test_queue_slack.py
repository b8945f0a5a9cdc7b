"""The staff's App Home on Slack leads with the desk's queue (issue 20): published through the fake
Slack Web API (tests/fakes/slack_server.py) when the Home tab is opened, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.adapters.slack_blocks import home_blocks
from bot.core.messages import Outbound
from store import cases as case_store
from tests.test_slack import SlackRig, slack

__all__ = ["slack"]


async def _open_home(rig: SlackRig, user: str, n: int) -> list[dict[str, Any]]:
    await rig.post_json(
        {
            "type": "event_callback",
            "event_id": f"EvHome{n}",
            "team_id": "T1",
            "event": {"type": "app_home_opened", "user": user, "tab": "home"},
        }
    )
    published = rig.fake.of("views.publish")
    assert published and published[-1].args["user_id"] == user
    view = published[-1].args["view"]
    if isinstance(view, str):
        import json

        view = json.loads(view)
    assert view["type"] == "home"
    blocks: list[dict[str, Any]] = view["blocks"]
    return blocks


async def test_the_staff_app_home_starts_with_what_waits(slack: SlackRig) -> None:
    services: Any = slack.services
    now = services.clock.now()
    async with services.db.transaction() as s:
        case = await case_store.create(
            s,
            program_id=services.profile.id,
            prefix=services.profile.case_prefix,
            year=services.profile.fiscal_year,
            track_id="soudan",
            municipality_code="111007",
            now=now - dt.timedelta(days=7),  # Monday a week ago: 5 開庁日 waited
            description="電子契約の導入について相談したい",
        )
    blocks = await _open_home(slack, "USTAFF", 1)
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"].startswith("【進捗】")
    assert blocks[1]["type"] == "context"  # the date under the header
    assert blocks[1]["elements"][0]["text"].startswith("2026年11月16日(月)時点")
    first = blocks[2]["text"]["text"]
    assert first.startswith("*■ 対応待ち 1件（待ちの長い順・うち要対応1件）*")
    assert f"・【要対応】{case.case_no} さいたま市 マッチング待ち（事務局） 5開庁日経過" in first
    assert blocks[3] == {"type": "divider"}
    assert blocks[4]["text"]["text"].startswith("*■ 要対応*")

    # The officer's Home shows their case and what it waits for.
    officer = await _open_home(slack, "UOFF", 2)
    text = "\n".join(b["text"]["text"] for b in officer if b["type"] == "section")
    assert case.case_no in text and "└ マッチング待ち（事務局・5開庁日経過）" in text


def test_home_blocks_escape_and_split_long_text() -> None:
    body = "\n".join(
        ["【見出し】", "日付", "■ 対応待ち 1件", "・<!channel> & more", "■ 要対応", "x" * 3000]
    )
    blocks = home_blocks(Outbound(text=body))
    assert [b["type"] for b in blocks] == [
        "header",
        "context",
        "section",
        "divider",
        "section",
        "section",
    ]
    assert blocks[2]["text"]["text"] == "*■ 対応待ち 1件*\n・&lt;!channel&gt; &amp; more"
    assert all(len(b["text"]["text"]) <= 2900 for b in blocks if b["type"] == "section")


def test_a_home_without_blocks_is_shown_whole() -> None:
    """An unregistered person's Home (one long sentence) is not cut to a 150-character header."""
    text = "ご登録がまだのため、ご利用いただけません。" * 10
    assert home_blocks(Outbound(text=text)) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    ]
