"""Request budgets: per user (whichever of their tokens or their session is used), per address
for anonymous callers, and a tighter per-user budget for the expensive reads.

One budget per *user*, not per token (issue 13, point 4): with a budget per token, minting
more tokens multiplied a user's allowance. Tokens are capped per user as well
(``workbench.services.tokens``). The expensive reads compute on request (the control advisor),
rasterise or ship large documents (diagrams, the editor graph, attack paths) or queue work
(recompute); they share the ``expensive`` scope, counted per user in the API and on the pages
(``ExpensiveReadMiddleware``) in one bucket, so switching between them or between API and
browser buys nothing. Addresses come from ``workbench.client_ip`` (``TRUSTED_PROXY_COUNT``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from workbench.client_ip import client_ip

# URL names (``request.resolver_match.view_name``) of the expensive reads, API and pages.
# Reports and other costly reads join by adding their names here.
EXPENSIVE_API_VIEWS = frozenset(
    {
        "system-advice",
        "system-attack-paths",
        "system-diagram-svg",
        "system-finding-detail",
        "system-graph",
        "system-recompute",
    }
)
# A finding's page computes its explanation when the recompute did not store it.
EXPENSIVE_PAGES = frozenset(
    {"threats:advice", "threats:advice_summary", "threats:diagram_svg", "threats:diagram_png", "threats:finding_detail"}
)


class LiveRates:
    """Read the rates at request time (DRF snapshots them at import), so an override of
    ``REST_FRAMEWORK`` in settings or tests takes effect without re-importing this module."""

    scope: str | None

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        return rates.get(self.scope or "")

    def get_ident(self, request: Any) -> str:
        return client_ip(request)


class AddressRateThrottle(LiveRates, AnonRateThrottle):
    """Anonymous callers, by address; only open endpoints (schema, docs) get that far."""


def _user_key(throttle: SimpleRateThrottle, request: Any) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return throttle.cache_format % {"scope": throttle.scope, "ident": f"user-{user.pk}"}


class UserRateThrottle(LiveRates, SimpleRateThrottle):
    """Every authenticated request, counted per user: all their tokens and sessions share it."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return _user_key(self, request)


def _view_name(request: Any) -> str:
    match = getattr(request, "resolver_match", None)
    return str(match.view_name) if match is not None else ""


class ExpensiveReadThrottle(LiveRates, SimpleRateThrottle):
    """The expensive reads' own budget per user; other endpoints are not counted here."""

    scope = "expensive"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        name = _view_name(request)
        if name not in EXPENSIVE_API_VIEWS and name not in EXPENSIVE_PAGES:
            return None
        return _user_key(self, request)


class ExpensiveReadMiddleware:
    """The ``expensive`` budget on the pages of EXPENSIVE_PAGES (the API counts in its views,
    where token authentication has run); a 429 with ``Retry-After`` once it is spent."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if _view_name(request) not in EXPENSIVE_PAGES:
            return None
        throttle = ExpensiveReadThrottle()
        # The throttle reads only .user, .resolver_match and the cache: a Django request will do.
        if throttle.allow_request(request, None):  # type: ignore[arg-type]
            return None
        wait = throttle.wait()
        response = HttpResponse(
            "Too many requests for advice and diagrams; wait a moment and try again.\n",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        if wait is not None:
            response["Retry-After"] = str(max(1, int(wait)))
        return response
