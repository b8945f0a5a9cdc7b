"""The LLM port: structured extraction through any OpenAI-compatible endpoint, off unless
configured. Personal data is masked before any text leaves; a timeout or a malformed answer
returns None so the caller falls back to its rule-based path within a few seconds."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from bot.config import Settings

log = logging.getLogger("dxbot.llm")

T = TypeVar("T", bound=BaseModel)

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\d)(?:\+81[-\s]?|0)\d{1,4}[-\s(（]?\d{1,4}[-\s)）]?\d{3,4}(?!\d)")


def mask_personal_data(text: str, names: Iterable[str] = ()) -> str:
    """Replace e-mail addresses, phone numbers and registered people's names with tags."""
    text = EMAIL.sub("[メール]", text)
    text = PHONE.sub("[電話番号]", text)
    for name in sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, "[氏名]")
        # Registered names are often written without the space between family and given name.
        compact = name.replace(" ", "").replace("\u3000", "")
        if compact != name and len(compact) >= 2:
            text = text.replace(compact, "[氏名]")
    return text


class LLM(Protocol):
    enabled: bool

    async def extract(
        self, instructions: str, text: str, schema: type[T], names: Iterable[str] = ()
    ) -> T | None: ...


class OfflineLLM:
    """The default: no model is called; callers use their rule-based path."""

    enabled = False

    async def extract(
        self, instructions: str, text: str, schema: type[T], names: Iterable[str] = ()
    ) -> T | None:
        return None


class OpenAILLM:
    """The real ``openai`` client, pointed at OPENAI_BASE_URL when set."""

    enabled = True

    def __init__(self, settings: Settings) -> None:
        from openai import AsyncOpenAI

        assert settings.openai_api_key is not None
        self.model = settings.llm_model
        self.timeout = settings.llm_timeout_seconds
        self.client = AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url or None,
            timeout=self.timeout,
            max_retries=0,
        )

    async def extract(
        self, instructions: str, text: str, schema: type[T], names: Iterable[str] = ()
    ) -> T | None:
        import openai

        masked = mask_personal_data(text, names)
        try:
            resp = await self.client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": instructions},
                    {"role": "user", "content": masked},
                ],
                response_format={
                    "type": "json_schema",
                    "json_schema": {
                        "name": schema.__name__,
                        "schema": schema.model_json_schema(),
                    },
                },
                temperature=0,
            )
            content = resp.choices[0].message.content or ""
            return schema.model_validate_json(content)
        except (openai.APIError, ValidationError, json.JSONDecodeError, IndexError) as exc:
            log.warning("LLM extraction fell back: %s", type(exc).__name__)
            return None
        except TimeoutError:
            log.warning("LLM extraction timed out; fell back")
            return None


def make_llm(settings: Settings) -> LLM:
    return OpenAILLM(settings) if settings.llm_enabled else OfflineLLM()
