"""What every HTTP answer and request goes through besides the role check:
the client's address, the same-origin rule for cookies, security headers.

A browser sends the session cookie with any request to this site, also
one that another page (same site, another port, or a sub-domain) makes
it send.  So a request that carries the cookie and changes something,
and every WebSocket upgrade, must come from a page of this origin: its
``Origin`` (or, lacking one, its ``Referer``) must name the host the
browser asked for.  Clients with a bearer token send no cookie and no
Origin; a forged page cannot set their Authorization header.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The console is one page with inline script and style and no third party.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def client_address(request: web.Request, trusted_proxies: tuple[str, ...]) -> str:
    """The client's IP address; behind a trusted reverse proxy, the last
    address that proxy appended to X-Forwarded-For."""
    remote = request.remote or "?"
    if remote in trusted_proxies:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last[:64]
    return remote


def same_origin(request: web.Request) -> bool:
    """True when the request's Origin (or Referer) names the host it was sent to."""
    host = request.headers.get("Host", "")
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or not host or source == "null":
        return False
    return urlsplit(source).netloc.lower() == host.lower()


def needs_same_origin(request: web.Request, by_cookie: bool) -> bool:
    """Cookie requests that change something, and every WebSocket upgrade."""
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return by_cookie or "Origin" in request.headers
    return by_cookie and request.method not in SAFE_METHODS


def add_security_headers(response: web.StreamResponse, *, cookie_secure: bool) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if cookie_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
