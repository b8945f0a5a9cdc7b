"""Reading a webhook's body defensively, before anything parses it.

A request body is read whole, within ``MAX_BODY`` bytes and ``READ_TIMEOUT`` seconds, so a
client that trickles a byte every few seconds, or sends megabytes, cannot hold a connection or
the memory; a client that goes away mid-body is logged at debug, never with a traceback. Each
refusal is one log line and a 4xx answer.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

MAX_BODY = 2 * 1024 * 1024  # Slack's and LoGo Chat's deliveries are a few kilobytes
READ_TIMEOUT = 10.0  # seconds to receive the whole body


def refuse(log: logging.Logger, status: int, error: str, level: int = logging.INFO) -> web.Response:
    log.log(level, "request refused (%s): %s", status, error)
    return web.json_response({"ok": False, "error": error}, status=status)


async def read_body(request: web.Request, log: logging.Logger) -> bytes | web.Response:
    """The raw body, or the 4xx answer to give instead."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return refuse(log, 413, "body too large")
    try:
        if request.content.is_eof():
            # All in already (a small body comes with its headers): nothing to wait for, so
            # no timer either — ``wait_for`` would cost every ack a task of its own.
            return await request.read()
        async with asyncio.timeout(READ_TIMEOUT):
            return await request.read()
    except TimeoutError:
        return refuse(log, 408, "body not received in time")
    except web.HTTPRequestEntityTooLarge:
        return refuse(log, 413, "body too large")
    except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
        log.debug("client went away while sending: %s", type(exc).__name__)
        return web.Response(status=400)
