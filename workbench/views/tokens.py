"""The API tokens page: make a personal token (secret shown once), see when each was last used, revoke.

The secret appears only in the response to the POST that made it (``Cache-Control: no-store``),
never in a redirect, a flash message or the session, so it is stored nowhere but in the
client's hands; the database keeps its SHA-256 digest (``workbench.services.tokens``). Team
admins also see, and may revoke, their members' tokens: a leaked token must be stoppable by
someone other than its holder.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from workbench.models import ApiToken, Team
from workbench.permissions import TeamCapability
from workbench.services.tokens import token_issue, token_revoke
from workbench.views.helpers import add_service_errors

EXPIRY_CHOICES = [("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")]


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where it is used, e.g. “CMDB sync” or “CI”.")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), help_text="The token sees only this team.")
    access = forms.ChoiceField(
        choices=[("read", "Read only"), ("write", "Read and write")],
        initial="read",
        help_text="Read-write tokens can change models as your role allows.",
    )
    expires_in = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90", required=False, label="Expires after")

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Name must not be blank.")
        return name


def _visible_tokens(request: HttpRequest) -> QuerySet[ApiToken]:
    """The user's own tokens, and every token in a team the user administers."""
    managed = Team.objects.with_capability(request.user, TeamCapability.MANAGE_TOKENS).values("pk")
    return ApiToken.objects.filter(Q(user_id=request.user.pk) | Q(team__in=managed))


def _page(request: HttpRequest, form: TokenForm, *, secret: str = "", status: int = 200) -> HttpResponse:
    tokens = _visible_tokens(request).select_related("team", "user").order_by("-created_at")
    mine = [t for t in tokens if t.user_id == request.user.pk]
    members = [t for t in tokens if t.user_id != request.user.pk]
    sections = [{"title": "Your tokens", "tokens": mine, "others": False}]
    if members:
        sections.append({"title": "Tokens of members of teams you administer", "tokens": members, "others": True})
    context = {"form": form, "secret": secret, "sections": sections, "now": timezone.now()}
    response = render(request, "workbench/tokens.html", context, status=status)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    teams = Team.objects.visible_to(request.user)
    if request.method != "POST":
        return _page(request, TokenForm(teams=teams))
    form = TokenForm(request.POST, teams=teams)
    if form.is_valid():
        days = form.cleaned_data["expires_in"]
        try:
            _, raw = token_issue(
                user=request.user,  # type: ignore[arg-type]
                team=form.cleaned_data["team"],
                name=form.cleaned_data["name"],
                read_only=form.cleaned_data["access"] == "read",
                expires_at=timezone.now() + timedelta(days=int(days)) if days else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _page(request, TokenForm(teams=teams), secret=raw)
    return _page(request, form, status=400)


@login_required
@require_POST
def token_remove(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(_visible_tokens(request).select_related("team"), pk=pk)
    token_revoke(actor=request.user, token=token)  # type: ignore[arg-type]
    messages.success(request, f"Revoked {token.name}.")
    return redirect("workbench:tokens")
