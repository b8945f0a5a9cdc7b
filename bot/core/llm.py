"""The LLM port: structured extraction through any OpenAI-compatible endpoint, off unless
configured. Personal data is masked before any text leaves; a timeout or a malformed answer
returns None so the caller falls back to its rule-based path within a few seconds."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterable
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from bot.core.config import Settings

log = logging.getLogger("dxbot.llm")

T = TypeVar("T", bound=BaseModel)

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Matched on NFKC text (full-width digits and brackets folded), so 03-1234-5678, (03) 1234-5678,
# 03(1234)5678, 090-1234-5678 and +81 90-1234-5678 / +81 (0)3-1234-5678 are all caught.
PHONE = re.compile(
    r"(?<!\d)(?:\+81[-\s]?(?:\(0\)\s?)?|\(0|0)\d{1,4}\)?[-\s(]?\d{1,4}\)?[-\s]?\d{3,4}(?!\d)"
)


def mask_personal_data(text: str, names: Iterable[str] = ()) -> str:
    """Replace e-mail addresses, phone numbers and registered people's names with tags.

    The text is NFKC-normalised first: Japanese users often type full-width digits, ＠ and the
    full-width space (山田　花子), which would otherwise slip past the patterns below.
    """
    text = unicodedata.normalize("NFKC", text)
    text = EMAIL.sub("[メール]", text)
    text = PHONE.sub("[電話番号]", text)
    folded = {unicodedata.normalize("NFKC", n).strip() for n in names}
    for name in sorted({n for n in folded if len(n) >= 2}, key=len, reverse=True):
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
            return schema.model_validate_json(_content(resp))
        except (openai.APIError, ValidationError, json.JSONDecodeError) as exc:
            log.warning("LLM extraction fell back: %s", type(exc).__name__)
            return None
        except TimeoutError:
            log.warning("LLM extraction timed out; fell back")
            return None


def _content(resp: object) -> str:
    """The first choice's text, or "" when the endpoint answered 200 with something that is not
    a chat completion (a proxy's HTML page, another API): the openai client does not validate
    responses, so reading ``resp.choices[0]`` blindly raised TypeError / AttributeError and
    crashed the conversation instead of falling back."""
    choices = getattr(resp, "choices", None)
    if not isinstance(choices, list) or not choices:
        return ""
    content = getattr(getattr(choices[0], "message", None), "content", None)
    return content if isinstance(content, str) else ""


def make_llm(settings: Settings) -> LLM:
    return OpenAILLM(settings) if settings.llm_enabled else OfflineLLM()
