"""Block Kit rendering for the Slack adapter: ``Outbound`` as blocks (buttons, or a select when
there are many choices; label/value fields), ``Form`` as a modal, and a submitted modal's values
back as plain strings. Pure functions of our core types, kept apart from the Bolt wiring in
bot/adapters/slack.py so each stays readable on its own.
"""

from __future__ import annotations

from typing import Any

from bot.core.messages import Form, Outbound

MAX_BUTTONS = 5
SECTION_LIMIT = 2900  # Slack's section text limit is 3000 characters


def escape(text: str) -> str:
    """Slack's three control characters: escaping ``<`` also defuses <!channel> and <@U…>."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sections(text: str) -> list[dict[str, Any]]:
    text = escape(text) or " "
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[i : i + SECTION_LIMIT]}}
        for i in range(0, len(text), SECTION_LIMIT)
    ]


def render_blocks(message: Outbound) -> list[dict[str, Any]]:
    blocks = sections(message.text)
    fields = [
        {"type": "mrkdwn", "text": f"*{escape(label)}*\n{escape(value)[:1900] or ' '}"}
        for label, value in message.fields
    ]
    for i in range(0, len(fields), 10):
        blocks.append({"type": "section", "fields": fields[i : i + 10]})
    if message.choices and len(message.choices) <= MAX_BUTTONS:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": c.label[:75]},
                        "value": c.value[:2000],
                        "action_id": f"{message.action_id}#{i}",
                        **({"style": c.style} if c.style != "default" else {}),
                    }
                    for i, c in enumerate(message.choices)
                ],
            }
        )
    elif message.choices:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": f"{message.action_id}#select",
                        "placeholder": {"type": "plain_text", "text": "選択してください"},
                        "options": [
                            {
                                "text": {"type": "plain_text", "text": c.label[:75]},
                                "value": c.value[:150],
                            }
                            for c in message.choices[:100]
                        ],
                    }
                ],
            }
        )
    return blocks


def home_blocks(message: Outbound) -> list[dict[str, Any]]:
    """The App Home: a status text as a header (its first line) and one section per ``■``
    block, divided, so the first block — what waits for whom — reads first. A message with
    fields or choices is rendered as in a chat."""
    lines = message.text.splitlines()
    structured = any(line.startswith("■") for line in lines[1:])
    if not structured or message.fields or message.choices:  # a refusal, a one-line answer
        return render_blocks(message)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": lines[0][:150]}}
    ]
    rest = lines[1:]
    lead = 0  # the lines before the first ■ block (the date) go under the header
    while lead < len(rest) and not rest[lead].startswith("■"):
        lead += 1
    if lead:
        intro = escape("\n".join(rest[:lead]))[:SECTION_LIMIT] or " "
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": intro}]})
    groups: list[list[str]] = []
    for line in rest[lead:]:
        if line.startswith("■") or not groups:
            groups.append([])
        groups[-1].append(line)
    for i, group in enumerate(groups):
        if i:
            blocks.append({"type": "divider"})
        head, body = group[0], "\n".join(group[1:])
        if head.startswith("■"):
            text = f"*{escape(head)}*" + (f"\n{escape(body)}" if body else "")
        else:
            text = escape("\n".join(group)) or " "
        blocks += [
            {"type": "section", "text": {"type": "mrkdwn", "text": text[j : j + SECTION_LIMIT]}}
            for j in range(0, len(text), SECTION_LIMIT)
        ]
    return blocks


def render_modal(form: Form) -> dict[str, Any]:
    blocks = []
    for f in form.fields:
        if f.options:
            element: dict[str, Any] = {
                "type": "multi_static_select" if f.name.endswith("[]") else "static_select",
                "action_id": f.name,
                "options": [
                    {"text": {"type": "plain_text", "text": o.label[:75]}, "value": o.value[:150]}
                    for o in f.options[:100]
                ],
            }
        else:
            element = {"type": "plain_text_input", "action_id": f.name, "multiline": f.multiline}
            if f.initial:
                element["initial_value"] = f.initial
        blocks.append(
            {
                "type": "input",
                "block_id": f.name,
                "optional": f.optional,
                "label": {"type": "plain_text", "text": f.label[:2000]},
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": form.form_id,
        "title": {"type": "plain_text", "text": form.title[:24]},
        "submit": {"type": "plain_text", "text": form.submit_label[:24]},
        "blocks": blocks,
    }


def form_values(view: dict[str, Any]) -> dict[str, str]:
    """A submitted modal's values as plain strings (multi-selects joined with commas)."""
    out: dict[str, str] = {}
    for block_id, actions in (view.get("state", {}).get("values", {}) or {}).items():
        for _action_id, v in actions.items():
            if v.get("type") == "multi_static_select":
                out[block_id] = ",".join(o["value"] for o in v.get("selected_options") or [])
            elif v.get("type") == "static_select":
                opt = v.get("selected_option") or {}
                out[block_id] = opt.get("value", "")
            else:
                out[block_id] = v.get("value") or ""
    return out


def plain_text(message: Outbound) -> str:
    """The text and the label/value fields of a message, for a file's comment."""
    lines = [escape(message.text)]
    lines += [f"{escape(label)}: {escape(value)}" for label, value in message.fields]
    return "\n".join(lines)[:3000]
