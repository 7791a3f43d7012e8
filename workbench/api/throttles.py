"""Request throttling per API token (falling back to the user for browser sessions).

A user's tokens each get their own budget, so a runaway CI job with one token cannot lock its
owner out of the browser or out of another job; anonymous callers are throttled by address
(DRF's ``AnonRateThrottle``, also in the defaults).
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from workbench.models import ApiToken


class LiveRates:
    """Read the rates at request time (DRF snapshots them at import), so an override of
    ``REST_FRAMEWORK`` in settings or tests takes effect without re-importing this module."""

    scope: str | None

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        return rates.get(self.scope or "")


class AddressRateThrottle(LiveRates, AnonRateThrottle):
    """Anonymous callers, by address; only open endpoints (schema, docs) get that far."""


class TokenRateThrottle(LiveRates, SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request.auth
        if isinstance(token, ApiToken):
            ident = f"token-{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}
