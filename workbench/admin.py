"""Django admin of the modelling app: a window on the rows, never a way around the services.

A change made here used to skip everything a service does: the role check, validation, the
version bump (hence the recompute) and the audit event. A superuser could move one team's
asset into another team's system and nothing recorded it (issue 13, point 8). So:

* domain rows (systems, zones, assets, flows, attacker profiles, tokens, jobs, audit events)
  are read-only here: they change through the pages, the API and inventory sync;
* a team is created through ``team_create`` (the superuser becomes its first admin, audited)
  and a member's role set through ``membership_set`` (audited, only by an admin of that team),
  the two operator tasks with no page of their own. Neither is deleted here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from workbench.models import (
    ApiToken,
    Asset,
    AttackerProfile,
    AuditEvent,
    DataFlow,
    Job,
    Membership,
    System,
    Team,
    TrustZone,
)
from workbench.permissions import TeamCapability, capabilities_of
from workbench.services.teams import membership_set, team_create


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and detail pages, without add, change or delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """New teams through ``team_create``; existing teams are read-only."""

    form = TeamForm
    list_display = ("name", "slug", "audit_head", "created_at")
    search_fields = ("name", "slug")
    inlines = [MembershipInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return super().get_inline_instances(request, obj) if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Team, form: Any, change: bool) -> None:
        if change:
            raise PermissionDenied("Teams are not changed in the admin.")
        created = team_create(name=form.cleaned_data["name"], creator=request.user)  # type: ignore[arg-type]
        obj.pk, obj.slug, obj.audit_head = created.pk, created.slug, created.audit_head

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None  # team_create made the creator's membership; inlines are read-only


class MembershipForm(forms.ModelForm):
    """Team, user and role, checked as ``membership_set`` will: only a team's admin sets roles."""

    actor: Any = None

    class Meta:
        model = Membership
        fields = ["team", "user", "role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        team = data.get("team") or getattr(self.instance, "team", None)
        if team is not None and TeamCapability.ADMINISTER_TEAM not in capabilities_of(self.actor, team):
            raise ValidationError(
                "Only an admin of this team may set its members' roles; the change is audited in the team's record."
            )
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Roles set through ``membership_set`` (audited); memberships are not deleted here."""

    form = MembershipForm
    list_display = ("user", "team", "role")
    list_filter = ("role", "team")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("team", "user") if obj is not None else ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        team = obj.team if change else form.cleaned_data["team"]
        user = obj.user if change else form.cleaned_data["user"]
        saved = membership_set(actor=request.user, team=team, user=user, role=form.cleaned_data["role"])
        obj.pk = saved.pk


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "prefix", "user", "team", "read_only", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("read_only", "team")
    exclude = ("digest",)


@admin.register(System)
class SystemAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "team", "version", "risk_appetite", "updated_at")
    list_filter = ("team",)
    search_fields = ("name", "slug")


@admin.register(TrustZone)
class TrustZoneAdmin(ReadOnlyAdmin):
    list_display = ("name", "system", "trust_level", "parent")
    list_filter = ("trust_level", "system")


@admin.register(Asset)
class AssetAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "system", "zone", "criticality", "internet_facing", "authentication")
    list_filter = ("kind", "system", "internet_facing")
    search_fields = ("name", "external_id")


@admin.register(DataFlow)
class DataFlowAdmin(ReadOnlyAdmin):
    list_display = ("name", "system", "source", "target", "authenticated", "encrypted")
    list_filter = ("system", "authenticated", "encrypted")


@admin.register(AttackerProfile)
class AttackerProfileAdmin(ReadOnlyAdmin):
    list_display = ("name", "system", "capability", "attempts_per_year")
    list_filter = ("capability", "system")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("team", "sequence", "created_at", "actor_name", "verb", "object_type", "object_repr")
    list_filter = ("team", "verb", "object_type")


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("kind", "status", "system", "system_version", "progress", "created_at", "finished_at")
    list_filter = ("kind", "status")
