"""Fixtures of the API v1 tests: clients per persona and authentication.

``api_as(persona, auth)`` returns an APIClient: ``auth`` is ``"session"`` (logged in, CSRF not
enforced, as DRF's test client does), ``"token"`` (a read-write token of the persona's team; a
viewer can only hold a read-only one) or ``"read_only_token"``; ``persona=None`` is anonymous.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from workbench.choices import Role
from workbench.models import Membership
from workbench.services.tokens import token_issue

AUTH_MODES = ("session", "token", "read_only_token")


def client_for(user: Any, auth: str | None, client: APIClient | None = None) -> APIClient:
    """An APIClient acting as ``user`` through ``auth`` (see the module docstring).

    Pass ``client`` to reuse one: each new client loads the middleware stack again, which
    costs more than the request when a test makes hundreds of them.
    """
    if client is None:
        client = APIClient()
    else:
        client.logout()
        client.credentials()
    if user is None or auth is None:
        return client
    if auth == "session":
        client.force_login(user)
        return client
    membership = Membership.objects.filter(user=user).select_related("team").order_by("pk").first()
    assert membership is not None, f"{user} is in no team and cannot hold a token"
    read_only = auth == "read_only_token" or membership.role == Role.VIEWER
    _, raw = token_issue(user=user, team=membership.team, name=f"{auth} test", read_only=read_only)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api_as(request: pytest.FixtureRequest) -> Callable[..., APIClient]:
    def _client(persona: str | None, auth: str | None = "session") -> APIClient:
        user = request.getfixturevalue(persona) if persona is not None else None
        return client_for(user, auth)

    return _client
