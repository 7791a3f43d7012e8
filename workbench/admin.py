"""Django admin for every model of the modelling app.

Audit events are read-only here: the chain may only grow through services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
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


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "audit_head", "created_at")
    search_fields = ("name", "slug")
    readonly_fields = ("audit_head",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role")
    list_filter = ("role", "team")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "team", "read_only", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "last_used_at")
    list_filter = ("read_only", "team")


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "team", "version", "risk_appetite", "updated_at")
    list_filter = ("team",)
    search_fields = ("name", "slug")
    readonly_fields = ("version",)


@admin.register(TrustZone)
class TrustZoneAdmin(admin.ModelAdmin):
    list_display = ("name", "system", "trust_level", "parent")
    list_filter = ("trust_level", "system")


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "system", "zone", "criticality", "internet_facing", "authentication")
    list_filter = ("kind", "system", "internet_facing")
    search_fields = ("name", "external_id")


@admin.register(DataFlow)
class DataFlowAdmin(admin.ModelAdmin):
    list_display = ("name", "system", "source", "target", "authenticated", "encrypted")
    list_filter = ("system", "authenticated", "encrypted")
    filter_horizontal = ("carries",)


@admin.register(AttackerProfile)
class AttackerProfileAdmin(admin.ModelAdmin):
    list_display = ("name", "system", "capability", "attempts_per_year")
    list_filter = ("capability", "system")
    filter_horizontal = ("entry_zones", "entry_assets")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("team", "sequence", "created_at", "actor_name", "verb", "object_type", "object_repr")
    list_filter = ("team", "verb", "object_type")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("kind", "status", "system", "system_version", "progress", "created_at", "finished_at")
    list_filter = ("kind", "status")
