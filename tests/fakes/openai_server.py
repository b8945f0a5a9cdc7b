"""A fake OpenAI-compatible server for tests: ``POST /v1/chat/completions`` on 127.0.0.1.

The real ``openai`` client is pointed at it through ``OPENAI_BASE_URL``. Every request body is
recorded (so a test can check what would have left the building, e.g. that personal data was
masked), and the behaviour is switchable per test:

- ``good``: a well-formed chat completion whose message content is ``answer`` as JSON;
- ``not_json``: a well-formed completion whose content is prose, not JSON;
- ``wrong_schema``: a completion whose content is JSON of the wrong shape;
- ``no_choices``: HTTP 200 with a JSON body that is not a chat completion at all;
- ``garbage``: HTTP 200 with a body that is not JSON;
- ``error``: HTTP 500 with an OpenAI-style error object;
- ``slow``: answers only after ``delay`` seconds (longer than the client's timeout). The wait
  ends early when the server stops, so a test never sits out the whole delay at teardown.

Bound to port 0 (the OS picks a free port); no thread, no polling: the server runs on the
test's own event loop, and each request is recorded before it is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

Behaviour = Literal["good", "not_json", "wrong_schema", "no_choices", "garbage", "error", "slow"]


@dataclass
class FakeOpenAI:
    behaviour: Behaviour = "good"
    answer: dict[str, Any] = field(default_factory=dict)
    delay: float = 3.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        """What goes into OPENAI_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> FakeOpenAI:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- what the tests read ----------------------------------------------------------------

    def user_texts(self) -> list[str]:
        """The user message of every recorded request (the text that would reach the model)."""
        return [
            m["content"]
            for body in self.requests
            for m in body.get("messages", [])
            if m.get("role") == "user"
        ]

    # --- the endpoint -------------------------------------------------------------------------

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.headers.append(dict(request.headers))
        self.requests.append(body)
        model = str(body.get("model", "gpt-test"))
        if self.behaviour == "slow":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.delay)
            return web.json_response(self._completion(model, json.dumps(self.answer)))
        if self.behaviour == "good":
            content = json.dumps(self.answer, ensure_ascii=False)
            return web.json_response(self._completion(model, content))
        if self.behaviour == "not_json":
            return web.json_response(
                self._completion(model, "承知しました。分野はセキュリティだと思います。")
            )
        if self.behaviour == "wrong_schema":
            content = json.dumps({"domains": "セキュリティ対策の徹底", "method": ["online"]})
            return web.json_response(self._completion(model, content))
        if self.behaviour == "no_choices":
            return web.json_response({"id": "x", "object": "chat.completion", "result": "ok"})
        if self.behaviour == "garbage":
            return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")
        return web.json_response(
            {"error": {"message": "boom", "type": "server_error", "code": None}}, status=500
        )

    @staticmethod
    def _completion(model: str, content: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
