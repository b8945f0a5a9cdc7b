"""The web view's aiohttp application: sign-in, sessions, security headers, CSRF, and the
routes of ``bot.web.pages``."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.app import Services
from bot.core.permissions import Actor
from bot.web.render import Renderer
from reminders.calendar import BusinessCalendar
from store import audit, programs, web_auth
from store.db import Session
from store.profiles import ProgramProfile

log = logging.getLogger("dxbot.web")

PREFIX = "/web"
COOKIE = "dxbot_web"
STATIC = Path(__file__).parent / "static"

# No inline script or style anywhere (the charts are SVG elements with attributes); forms post
# only to this site; the pages are never framed.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

SERVICES = web.AppKey("services", Services)
RENDERER = web.AppKey("renderer", Renderer)
PROFILES = web.AppKey("profiles", dict)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Viewer:
    """Who is looking, in which program: what every page is scoped by."""

    actor: Actor
    profile: ProgramProfile
    calendar: BusinessCalendar
    csrf: str


VIEWER = web.RequestKey("viewer", Viewer)
FORM = web.RequestKey("form", MultiDictProxy)


def csrf_token(session_token: str) -> str:
    """Bound to the session (whose cookie no script can read), so a form from another site
    cannot carry it."""
    return hmac.new(session_token.encode(), b"dxbot-web-csrf", hashlib.sha256).hexdigest()


def services_of(request: web.Request) -> Services:
    return request.app[SERVICES]


def renderer_of(request: web.Request) -> Renderer:
    return request.app[RENDERER]


def now_of(request: web.Request) -> dt.datetime:
    return services_of(request).clock.now()


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    viewer: Viewer | None = request.get(VIEWER)
    html = renderer_of(request).render(template, viewer=viewer, now=now_of(request), **context)
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)


def message_page(request: web.Request, title_key: str, body_key: str, status: int) -> web.Response:
    return page(request, "message.html", status=status, title_key=title_key, body_key=body_key)


async def program_of(
    request: web.Request, s: Session, program_id: str
) -> tuple[ProgramProfile, BusinessCalendar] | None:
    """The profile of the program a session was opened in (the deployment's, or another one
    loaded in the same database), remembered per process."""
    services = services_of(request)
    if program_id in ("", services.profile.id):
        return services.profile, services.calendar
    cache: dict[str, tuple[ProgramProfile, BusinessCalendar]] = request.app[PROFILES]
    if program_id not in cache:
        row = await programs.get(s, program_id)
        if row is None:
            return None
        profile = ProgramProfile.model_validate(row.profile)
        cache[program_id] = (profile, BusinessCalendar(profile.closed_days))
    return cache[program_id]


PUBLIC = ("/signin", "/static/")


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every answer; a live session for every page but sign-in; the CSRF
    token on every POST but sign-in; 404 pages in Japanese."""
    try:
        response = await _guarded(request, handler)
    except web.HTTPNotFound:
        response = message_page(request, "web_not_found_title", "web_not_found", 404)
    except web.HTTPMethodNotAllowed:
        response = message_page(request, "web_not_found_title", "web_not_found", 405)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("web view: %s %s failed", request.method, request.path)
        response = message_page(request, "web_error_title", "web_error", 500)
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path.removeprefix(PREFIX)
    if path.startswith(PUBLIC):
        return await handler(request)
    token = request.cookies.get(COOKIE, "")
    services = services_of(request)
    async with services.db.transaction() as s:
        identity = await web_auth.lookup_session(s, token, services.clock.now()) if token else None
        found = await program_of(request, s, identity.program_id) if identity else None
    if identity is None or found is None:
        return message_page(request, "web_need_signin_title", "web_need_signin", 401)
    profile, calendar = found
    viewer = Viewer(Actor.of_user(identity.user), profile, calendar, csrf_token(token))
    request[VIEWER] = viewer
    if request.method == "POST":
        form = await request.post()
        sent = str(form.get("csrf", ""))
        if not hmac.compare_digest(sent, viewer.csrf):
            return message_page(request, "web_forbidden_title", "web_csrf", 403)
        request[FORM] = form
    return await handler(request)


# --- sign-in and sign-out -------------------------------------------------------------------------


async def signin_page(request: web.Request) -> web.Response:
    """The link opens a page with one button: a link previewer that fetches the URL does not
    use it up; the browser's POST does."""
    token = request.query.get("t", "")
    if not token:
        return message_page(request, "web_signin_title", "web_signin_missing", 400)
    return page(request, "signin.html", token=token)


async def signin(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    token = str(form.get("t", ""))[:200]
    services = services_of(request)
    now = services.clock.now()
    async with services.db.transaction() as s:
        used = await web_auth.consume_link(s, token, now) if token else "unknown"
        if isinstance(used, str):
            await audit.record(
                s,
                at=now,
                actor="web",
                action="web_sign_in_refused",
                object_type="web_link",
                detail={"reason": used},
            )
            session_token = None
        else:
            session_token, expires = await web_auth.create_session(
                s, user_id=used.user_id, program_id=used.program_id, now=now
            )
            from store import users

            user = await users.get(s, used.user_id)
            await audit.record(
                s,
                at=now,
                actor=(user.name or user.platform_id) if user else str(used.user_id),
                action="web_sign_in",
                object_type="user",
                object_id=str(used.user_id),
                detail={"expires_at": expires.isoformat()},
                program_id=used.program_id,
            )
    if session_token is None:
        assert isinstance(used, str)
        return message_page(request, "web_signin_title", f"web_link_{used}", 400)
    response = web.Response(status=303, headers={"Location": f"{PREFIX}/"})
    response.set_cookie(
        COOKIE,
        session_token,
        max_age=int(web_auth.SESSION_TTL.total_seconds()),
        path=f"{PREFIX}/",
        httponly=True,
        secure=services.settings.web_secure,
        samesite="Lax",
    )
    return response


async def signout(request: web.Request) -> web.StreamResponse:
    services = services_of(request)
    viewer: Viewer = request[VIEWER]
    now = services.clock.now()
    async with services.db.transaction() as s:
        if await web_auth.end_session(s, request.cookies.get(COOKIE, ""), now) is not None:
            await audit.record(
                s,
                at=now,
                actor=viewer.actor.label,
                action="web_sign_out",
                object_type="user",
                object_id=str(viewer.actor.user_id),
                program_id=viewer.profile.id,
            )
    del request[VIEWER]
    response = message_page(request, "web_signed_out_title", "web_signed_out", 200)
    response.del_cookie(COOKIE, path=f"{PREFIX}/")
    return response


# --- the application ------------------------------------------------------------------------------


def web_app(services: Services) -> web.Application:
    """The web view as an application of its own, its routes relative to ``/web``."""
    from bot.web import pages

    app = web.Application(middlewares=[guard])
    app[SERVICES] = services
    app[RENDERER] = Renderer()
    app[PROFILES] = {}
    app.router.add_get("/signin", signin_page)
    app.router.add_post("/signin", signin)
    app.router.add_post("/signout", signout)
    app.router.add_static("/static", STATIC)
    pages.add_routes(app)
    return app


def mount(app: web.Application, services: Services) -> None:
    """Serve the web view under ``/web/`` of an existing application (``dxbot serve``)."""
    app.add_subapp(PREFIX, web_app(services))
