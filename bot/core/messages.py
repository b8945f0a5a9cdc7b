"""Platform-neutral message types. Adapters translate platform events to ``Inbound`` and render
``Outbound`` their own way (Block Kit on Slack, numbered text on LoGo Chat and the console)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

InboundKind = Literal["message", "command", "action", "form"]


class FileRef(BaseModel):
    """A file a user attached (kept by reference; the adapter may also fill ``data``)."""

    name: str
    url: str = ""
    content_type: str = "application/octet-stream"
    data: bytes | None = None


class Inbound(BaseModel):
    model_config = ConfigDict(frozen=True)

    platform: str
    event_id: str
    user_id: str = Field(description="the platform's own user id (a Slack U… id)")
    kind: InboundKind = "message"
    text: str = ""
    command: str | None = Field(default=None, description="'/status' etc. for kind=command")
    action_id: str | None = None
    value: str | None = None
    form: dict[str, str] | None = None
    channel: str = ""
    thread: str | None = None
    is_direct: bool = True
    supports_forms: bool = Field(
        default=False, description="the platform can open a form now (a Slack trigger_id)"
    )
    files: tuple[FileRef, ...] = ()
    received_at: dt.datetime | None = None

    @property
    def thread_key(self) -> str:
        """Conversations started in a thread live in that thread; DMs share one key."""
        return self.thread or ""


class Choice(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    value: str
    style: Literal["default", "primary", "danger"] = "default"
    # Other words that name this choice when typed, never shown: the word the exports and
    # decks write for it (「未解決」 for 「まだ解決していない」), so a person who answers in
    # the words they read elsewhere is understood.
    aliases: tuple[str, ...] = ()


class FormField(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    multiline: bool = False
    optional: bool = False
    options: tuple[Choice, ...] = ()
    initial: str = ""


class Form(BaseModel):
    """A form-like prompt: a Slack modal; elsewhere the conversation asks field by field."""

    model_config = ConfigDict(frozen=True)

    form_id: str
    title: str
    fields: tuple[FormField, ...]
    submit_label: str = "送信"


class FileOut(BaseModel):
    # Files travel through the outbox as JSON; base64 keeps binary content intact.
    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    name: str
    content: bytes
    content_type: str = "application/octet-stream"
    title: str = ""


class Outbound(BaseModel):
    text: str
    choices: tuple[Choice, ...] = ()
    action_id: str = Field(default="choice", description="the action a chosen button sends back")
    form: Form | None = None
    files: tuple[FileOut, ...] = ()
    ephemeral: bool = False
    thread: str | None = None
    fields: tuple[tuple[str, str], ...] = Field(
        default=(), description="label/value pairs shown as a summary table"
    )

    def to_payload(self) -> dict[str, object]:
        """JSON-safe form for the outbox (file bytes are base64 encoded by pydantic)."""
        payload: dict[str, object] = json.loads(self.model_dump_json())
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, object]) -> Outbound:
        return cls.model_validate_json(json.dumps(payload))
