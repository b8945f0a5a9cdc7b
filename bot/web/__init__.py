"""The read-only web view (issue 18): the program, its cases, municipalities, experts,
deadlines and files in a browser, for the prefecture and the desk (and, scoped like `/status`,
for an officer or an expert).

Signed in without passwords: `/dx web` in the chat (or `dxbot web link --as ID`) hands out a
one-time link (``store.web_auth``); the link sets a session cookie for a working day.
Server-rendered Jinja2 templates (autoescaped), no JavaScript, charts as inline SVG; every
response carries a CSP without inline script, ``X-Frame-Options: DENY`` and a strict referrer
policy; the two forms (sign-out, downloads) carry a CSRF token.

``web_app(services)`` is the aiohttp application; ``dxbot serve`` mounts it under ``/web/``
(``mount``) and ``dxbot web`` serves it alone.
"""

from bot.web.app import PREFIX, mount, web_app

__all__ = ["PREFIX", "mount", "web_app"]
