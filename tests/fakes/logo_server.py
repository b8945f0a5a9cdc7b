"""A fake LoGo Chat REST API on 127.0.0.1 (port 0): the far end of the wire for the adapter.

It speaks the assumed format documented in ``bot/adapters/logo.py`` — ``POST /messages`` with
JSON and ``POST /files`` as multipart — checks the bearer token, records every call, and can be
told to answer the next matching calls with 429 (``Retry-After``) or 5xx. Tests await calls with
``wait_for`` (an ``asyncio.Event``), never by sleeping and polling.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

PREFIX = "/api/v1"


@dataclass
class Call:
    """One request as the fake saw it. ``path`` is ``/messages`` or ``/files`` (suffixed with
    ``:failed`` or ``:unauthorized`` when the fake refused it)."""

    path: str
    fields: dict[str, str]
    headers: dict[str, str]
    file: tuple[str, str, bytes] | None = None  # (filename, content type, bytes)

    @property
    def target(self) -> str:
        return self.fields.get("room_id") or self.fields.get("user_id") or ""

    @property
    def text(self) -> str:
        return self.fields.get("text", "")


@dataclass
class Failure:
    status: int
    headers: dict[str, str]
    target: str | None  # only calls to this room/user id, or any call when None


@dataclass
class FakeLogo:
    token: str
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    port: int = 0
    gate: asyncio.Event | None = None  # while set to an unset Event, calls wait before answering
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_post(PREFIX + "/messages", self._messages)
        app.router.add_post(PREFIX + "/files", self._files)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests use ---------------------------------------------------------------------

    def fail(
        self,
        path: str,
        status: int,
        *,
        retry_after: int | None = None,
        target: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls to ``path`` (for ``target``, if given) with ``status``."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        for _ in range(times):
            self.failures.setdefault(path, []).append(Failure(status, headers, target))

    def hold(self) -> None:
        """Keep every call waiting (unanswered) until ``release()``."""
        self.gate = asyncio.Event()

    def release(self) -> None:
        if self.gate is not None:
            self.gate.set()

    def of(self, path: str, target: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.path == path and (target is None or c.target == target)]

    def texts(self, target: str | None = None) -> list[str]:
        """Texts delivered (messages and file comments), optionally to one room or user."""
        return [
            c.text
            for c in self.calls
            if c.path in ("/messages", "/files") and (target is None or c.target == target)
        ]

    async def wait_for(
        self, path: str, count: int = 1, *, target: str | None = None, limit: float = 10.0
    ) -> list[Call]:
        """The first ``count`` calls to ``path`` (for ``target``), as soon as they arrive."""

        async def until() -> list[Call]:
            while len(self.of(path, target)) < count:
                self._changed.clear()
                await self._changed.wait()
            return self.of(path, target)

        return await asyncio.wait_for(until(), limit)

    # --- the API ------------------------------------------------------------------------------

    async def _messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        fields = {k: str(v) for k, v in body.items() if v is not None}
        return await self._answer("/messages", request, fields)

    async def _files(self, request: web.Request) -> web.Response:
        fields: dict[str, str] = {}
        upload: tuple[str, str, bytes] | None = None
        reader = await request.multipart()
        async for part in reader:
            if part.name == "file":
                ctype = part.headers.get("Content-Type", "")
                upload = (part.filename or "", ctype, bytes(await part.read()))  # type: ignore[union-attr]
            elif part.name:
                fields[part.name] = await part.text()  # type: ignore[union-attr]
        if upload is None:
            self._record(Call("/files:invalid", fields, dict(request.headers)))
            return web.json_response({"error": "file_required"}, status=400)
        return await self._answer("/files", request, fields, upload)

    async def _answer(
        self,
        path: str,
        request: web.Request,
        fields: dict[str, str],
        upload: tuple[str, str, bytes] | None = None,
    ) -> web.Response:
        headers = dict(request.headers)
        if self.gate is not None:
            await self.gate.wait()
        if headers.get("Authorization") != f"Bearer {self.token}":
            self._record(Call(path + ":unauthorized", fields, headers, upload))
            return web.json_response({"error": "invalid_token"}, status=401)
        if not (fields.get("room_id") or fields.get("user_id")):
            self._record(Call(path + ":invalid", fields, headers, upload))
            return web.json_response({"error": "target_required"}, status=400)
        failure = self._next_failure(path, fields)
        if failure is not None:
            self._record(Call(path + ":failed", fields, headers, upload))
            return web.json_response(
                {"error": f"http_{failure.status}"}, status=failure.status, headers=failure.headers
            )
        self._record(Call(path, fields, headers, upload))
        return web.json_response({"ok": True, "id": f"m{len(self.calls)}"})

    def _next_failure(self, path: str, fields: dict[str, str]) -> Failure | None:
        pending = self.failures.get(path, [])
        target = fields.get("room_id") or fields.get("user_id")
        for i, failure in enumerate(pending):
            if failure.target is None or failure.target == target:
                return pending.pop(i)
        return None

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()
