"""A fake Slack Web API on 127.0.0.1 (port 0): the far end of the wire for the Slack adapter.

It records every call, answers like Slack (``ok: true`` payloads, ``ok: false`` errors, 429 with
``Retry-After``), and accepts the three steps of ``files_upload_v2``. Tests await calls with
``wait_for`` instead of sleeping and polling.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_sdk.signature import SignatureVerifier


@dataclass
class Call:
    method: str
    args: dict[str, Any]


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    # method -> list of (status, headers, body) answers used before the normal one
    failures: dict[str, list[tuple[int, dict[str, str], dict[str, Any] | str]]] = field(
        default_factory=dict
    )
    envelopes: list[dict[str, Any]] = field(default_factory=list)  # pushed over Socket Mode
    # channel -> messages posted there (ts, thread_ts, metadata), for conversations.history
    posted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    gate: asyncio.Event | None = None  # while set to an unset Event, posts wait for their answer
    take_then_fail: int = 0  # this many next posts are taken (listed in history) but answered 504
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk reads history with GET
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/ws", self._socket_mode)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(
        self,
        method: str,
        status: int,
        body: dict[str, Any] | str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.failures.setdefault(method, []).append((status, headers or {}, body))

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, limit: float = 10.0) -> list[Call]:
        async def until() -> list[Call]:
            while len(self.of(method)) < count:
                self._changed.clear()
                await self._changed.wait()
            return self.of(method)

        return await asyncio.wait_for(until(), limit)

    def texts(self, channel: str | None = None) -> list[str]:
        return [
            str(c.args.get("text", ""))
            for c in self.calls
            if c.method in ("chat.postMessage", "chat.postEphemeral")
            and (channel is None or c.args.get("channel") == channel)
        ]

    async def _args(self, request: web.Request) -> dict[str, Any]:
        """Arguments from the query string and the body, as Slack reads them: slack_sdk sends
        some (``files`` of files.completeUploadExternal) in the query string, JSON-encoded."""
        raw = await request.read()
        pairs: list[tuple[str, Any]] = list(request.query.items())
        if request.content_type == "application/json":
            pairs += list(json.loads(raw or b"{}").items())
        else:
            fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
            pairs += [(k, v[0]) for k, v in fields.items()]
        out: dict[str, Any] = {}
        for k, value in pairs:
            if k in ("blocks", "view", "files") and isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            out[k] = value
        return out

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        expected = (
            "Bearer xapp-test" if method == "apps.connections.open" else "Bearer xoxb-test-token"
        )
        if request.headers.get("Authorization", "") != expected:
            self._record(method, args)
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "chat.postMessage" and self.take_then_fail > 0:
            # Slack took the message, but the answer that reaches the app is an error page.
            self.take_then_fail -= 1
            self._answer(method, args)
            self._record(method + ":taken", args)
            return web.Response(text="<html>Gateway Timeout</html>", status=504)
        pending = self.failures.get(method)
        if pending:
            status, headers, body = pending.pop(0)
            self._record(method + ":failed", args)
            if isinstance(body, str):  # e.g. a proxy's HTML error page
                return web.Response(text=body, status=status, headers=headers)
            return web.json_response(body, status=status, headers=headers)
        self._record(method, args)
        answer = self._answer(method, args)
        if self.gate is not None and method == "chat.postMessage":
            await self.gate.wait()  # taken, but answered late (or never: a timeout)
        return web.json_response(answer)

    def _record(self, method: str, args: dict[str, Any]) -> None:
        self.calls.append(Call(method, args))
        self._changed.set()

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        n = len(self.calls)
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{args.get('users', 'X')}"}}
        if method in ("chat.postMessage", "chat.postEphemeral"):
            ts = f"1700000000.{n:06d}"
            if method == "chat.postMessage":
                self.posted.setdefault(str(args.get("channel")), []).append(
                    {"ts": ts, "thread_ts": args.get("thread_ts"), "metadata": args.get("metadata")}
                )
            return {"ok": True, "channel": args.get("channel"), "ts": ts}
        if method in ("conversations.history", "conversations.replies"):
            # Newest first, as Slack lists them; metadata only when asked for.
            found = list(reversed(self.posted.get(str(args.get("channel")), [])))
            if method == "conversations.replies":
                found = [m for m in found if m["thread_ts"] == args.get("ts")]
            with_meta = str(args.get("include_all_metadata")).lower() in ("1", "true")
            return {
                "ok": True,
                "messages": [
                    {"ts": m["ts"], **({"metadata": m["metadata"]} if with_meta else {})}
                    for m in found
                ],
            }
        if method == "files.getUploadURLExternal":
            file_id = f"F{n:05d}"
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}",
            }
        if method == "files.completeUploadExternal":
            files = args.get("files") or []
            return {
                "ok": True,
                "files": [{"id": f.get("id"), "title": f.get("title")} for f in files],
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/ws"}
        if method in ("views.open", "views.publish"):
            return {"ok": True, "view": {"id": f"V{n}"}}
        return {"ok": False, "error": "unknown_method"}

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, push the queued envelopes, record the acks."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._record("socket.connect", {})
        await ws.send_json({"type": "hello", "num_connections": 1})
        for envelope in self.envelopes:
            await ws.send_json(envelope)
        async for msg in ws:
            if msg.type.name == "TEXT":
                self._record("socket.ack", json.loads(msg.data))
        return ws

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        self._record("upload", {"file_id": request.match_info["file_id"]})
        return web.Response(text="OK")


# --- what Slack sends us -----------------------------------------------------------------------


def signed_headers(
    secret: str, body: str, *, ts: int | None = None, content_type: str = "application/json"
) -> dict[str, str]:
    """The headers Slack puts on a request to the app, signed with the app's signing secret."""
    timestamp = str(ts if ts is not None else int(time.time()))
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(
            timestamp=timestamp, body=body
        ),
        "Content-Type": content_type,
    }


def dm_event(user: str, text: str, event_id: str, **extra: Any) -> dict[str, Any]:
    """A ``message.im`` event callback from ``user`` in their DM with the app."""
    return {
        "type": "event_callback",
        "event_id": event_id,
        "team_id": "T1",
        "event": {
            "type": "message",
            "channel_type": "im",
            "channel": f"D{user}",
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
            **extra,
        },
    }
