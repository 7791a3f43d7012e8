"""Content-Security-Policy for every page: scripts and styles from our origin only, no eval.

Pages load every script from static files (the Alpine CSP build, htmx, Cytoscape and our own
islands), so the policy needs neither ``'unsafe-inline'`` nor ``'unsafe-eval'``. A fresh nonce
per request is still exposed as ``request.csp_nonce`` for the one third-party template that
inlines a script and a style block (the Swagger UI page, see
``templates/drf_spectacular/swagger_ui.html``); nothing else may use it. A response that already
carries its own policy keeps it: the SVG diagrams are served under a stricter one
(``default-src 'none'``) and must not be widened by this middleware.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def build_policy(nonce: str) -> str:
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


class ContentSecurityPolicyMiddleware:
    """Sets the policy header unless the view set one; adds a per-request nonce."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = build_policy(nonce)
        return response
