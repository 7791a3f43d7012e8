"""API permission: authenticated, read-only tokens and viewers cannot write.

Object visibility is enforced by the querysets (``visible_to``), which makes another team's
object a 404; this class adds the 403 for a visible object the caller may not change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import permissions
from rest_framework.request import Request

if TYPE_CHECKING:
    from rest_framework.views import APIView

from workbench.models import ApiToken


class TeamRolePermission(permissions.BasePermission):
    message = "Your role or token does not allow this change."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        token = request.auth
        return not (isinstance(token, ApiToken) and token.read_only)


def token_team_id(request: Request) -> Any:
    """The team a token is scoped to, or None for session requests."""
    token = request.auth
    return token.team_id if isinstance(token, ApiToken) else None
