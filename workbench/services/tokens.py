"""API token services: issue (shown once), authenticate by digest, revoke.

A user holds at most ``API_MAX_ACTIVE_TOKENS`` active (unrevoked, unexpired) tokens across
teams: request budgets are per user (``workbench.api.throttles``), and an unbounded number of
live secrets would only multiply what can leak (issue 13, point 4).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from workbench.models import ApiToken, Team
from workbench.permissions import TeamCapability, require
from workbench.services.audit import audit_instance

TOKEN_PREFIX = "mtw_"  # noqa: S105 - a public marker that makes leaked tokens greppable, not a secret


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_issue(
    *, user: User, team: Team, name: str, read_only: bool = True, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for a member of ``team``; returns the row and the raw secret (never stored).

    Refused (``ValidationError``) for a viewer asking for write access, a blank name, and a user
    who already holds ``API_MAX_ACTIVE_TOKENS`` active tokens (checked on the locked user row, so
    concurrent requests cannot overshoot it).
    """
    capabilities = require(user, team, TeamCapability.ISSUE_READ_TOKEN)
    if not read_only and TeamCapability.ISSUE_WRITE_TOKEN not in capabilities:
        raise ValidationError({"read_only": "A viewer can only hold read-only tokens."})
    if not (name or "").strip():
        raise ValidationError({"name": "Name must not be blank."})
    # Lock the user row: two concurrent issues by one user are counted one after the other.
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk", flat=True).first()
    limit = int(settings.API_MAX_ACTIVE_TOKENS)
    if active_token_count(user=user) >= limit:
        raise ValidationError(
            f"You already hold {limit} active API tokens, the most one person may have. "
            "Revoke one you no longer use, then make the new one."
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        team=team,
        user=user,
        name=name.strip()[:100],
        prefix=raw[:12],
        digest=token_digest(raw),
        read_only=read_only,
        expires_at=expires_at,
    )
    after = {"read_only": read_only, "expires_at": str(expires_at or "")}
    audit_instance(actor=user, verb="issue_token", instance=token, team=team, after=after)
    return token, raw


def active_token_count(*, user: User) -> int:
    """Tokens of ``user`` that still authenticate: not revoked and not expired, in any team."""
    now = timezone.now()
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    return ApiToken.objects.filter(live, user_id=user.pk, revoked_at__isnull=True).count()


def token_authenticate(raw: str) -> ApiToken | None:
    """Return the live token for a raw secret, stamping its last use, or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = ApiToken.objects.select_related("user", "team").filter(digest=token_digest(raw)).first()
    now = timezone.now()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> None:
    """Revoke ``token`` (a no-op when it is revoked already).

    Its holder always may, even after leaving the team: a leaked secret must stay revocable by
    the person who knows it leaked. Anyone else needs ``MANAGE_TOKENS`` in the token's team.
    """
    if token.user_id != actor.pk:
        require(actor, token.team, TeamCapability.MANAGE_TOKENS)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_instance(actor=actor, verb="revoke_token", instance=token, team=token.team)
