"""API v1 reads of the diagram editor: the whole graph in one answer, and a cheap version probe.

``GET /systems/{slug}/graph/`` gives the editor everything it draws (zones, assets, flows, saved
positions) plus the findings of every element for the side panel and ``risk_version``, the results
version those findings belong to (so a poll that brings nothing new redraws nothing), as flat
``values()`` rows: a system of 500 assets and 1,500 flows must load in well under a second, so no
per-row serializer.
The ``ETag`` is the system version, which the editor sends back in ``If-Match`` on its batch.

``GET /systems/{slug}/version/`` is what every open system page polls every few seconds to tell
its user that someone else changed the model (and who), without reloading anything heavy.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from threats.models import Finding, FindingStatus, SystemRisk
from threats.selectors_risk import risk_freshness
from workbench.api.base import SLUG_PARAMETER, SystemScopedMixin
from workbench.api.etags import version_etag
from workbench.choices import AssetKind, Authentication, ModelClass, OutputGranularity
from workbench.models import Asset, AssetPosition, AuditEvent, DataFlow, TrustZone
from workbench.selectors import user_can_edit

ZONE_KEYS = ("id", "name", "trust_level", "parent")
ASSET_KEYS = (
    "id",
    "name",
    "kind",
    "zone",
    "hosted_on",
    "criticality",
    "internet_facing",
    "authentication",
    "mfa",
    "encrypted_at_rest",
    "rate_limited",
    "logging",
    "monitored",
    "third_party",
    "model_class",
    "output_granularity",
    "value_min",
    "value_likely",
    "value_max",
    "description",
)
FLOW_KEYS = ("id", "name", "source", "target", "protocol", "authenticated", "encrypted", "bidirectional")

GRAPH = inline_serializer(
    "EditorGraph",
    {
        "version": serializers.IntegerField(),
        "risk_version": serializers.IntegerField(),
        "can_edit": serializers.BooleanField(),
        "zones": serializers.ListField(child=serializers.DictField()),
        "assets": serializers.ListField(child=serializers.DictField()),
        "flows": serializers.ListField(child=serializers.DictField()),
        "positions": serializers.DictField(child=serializers.ListField(child=serializers.FloatField())),
        "findings": serializers.DictField(child=serializers.ListField(child=serializers.DictField())),
        "choices": serializers.DictField(child=serializers.ListField(child=serializers.ListField())),
    },
)
VERSION = inline_serializer(
    "SystemVersion",
    {
        "version": serializers.IntegerField(),
        "risk_state": serializers.CharField(),
        "risk_version": serializers.IntegerField(),
        "last_change": serializers.DictField(allow_null=True),
    },
)


def _findings_by_target(system_id: int) -> dict[str, list[dict[str, Any]]]:
    rows = (
        Finding.objects.filter(system_id=system_id)
        .exclude(status=FindingStatus.NOT_APPLICABLE)
        .order_by("-current_mean", "template__code")
        .values("id", "target_key", "status", "current_mean", "template__code", "template__name")
    )
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["target_key"]].append(
            {
                "id": row["id"],
                "code": row["template__code"],
                "name": row["template__name"],
                "status": row["status"],
                "current_mean": row["current_mean"],
            }
        )
    return dict(grouped)


class SystemGraphView(SystemScopedMixin, APIView):  # type: ignore[misc]  # DRF narrows View.request to Request
    """Everything the editor draws, in one read."""

    @extend_schema(
        summary="The system as a graph for the diagram editor",
        parameters=[SLUG_PARAMETER],
        responses={200: GRAPH},
        tags=["editor"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        system = self.get_system()
        positions = AssetPosition.objects.filter(system=system).values_list("asset_id", "x", "y")
        # Read before the findings: if results land in between, the editor sees an older version
        # than its findings and reloads once more, never the other way round (a stale panel).
        risk_version = SystemRisk.objects.filter(system=system).values_list("computed_version", flat=True).first()
        data = {
            "version": system.version,
            "risk_version": risk_version or 0,
            "can_edit": user_can_edit(user=request.user, team=system.team)
            and not getattr(request.auth, "read_only", False),
            "zones": list(TrustZone.objects.filter(system=system).values(*ZONE_KEYS)),
            "assets": list(Asset.objects.filter(system=system).order_by("pk").values(*ASSET_KEYS)),
            "flows": list(DataFlow.objects.filter(system=system).order_by("pk").values(*FLOW_KEYS)),
            "positions": {str(pk): [x, y] for pk, x, y in positions},
            "findings": _findings_by_target(system.pk),
            "choices": {
                "kind": [list(choice) for choice in AssetKind.choices],
                "authentication": [list(choice) for choice in Authentication.choices],
                "model_class": [list(choice) for choice in ModelClass.choices],
                "output_granularity": [list(choice) for choice in OutputGranularity.choices],
            },
        }
        response = Response(data)
        response["ETag"] = version_etag(system.version)
        response["Cache-Control"] = "private, no-cache"
        return response


class SystemVersionView(SystemScopedMixin, APIView):  # type: ignore[misc]  # DRF narrows View.request to Request
    """The system's version, its results' freshness, and the latest change (who, what, when)."""

    @extend_schema(
        summary="The current version of a system (polled by open pages)",
        parameters=[SLUG_PARAMETER],
        responses={200: VERSION},
        tags=["editor"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        system = self.get_system()
        freshness = risk_freshness(system=system)
        event = (
            AuditEvent.objects.filter(system=system)
            .order_by("-sequence")
            .values("actor_name", "verb", "object_type", "object_repr", "created_at")
            .first()
        )
        response = Response(
            {
                "version": system.version,
                "risk_state": freshness.state,
                "risk_version": freshness.results_version,
                "last_change": event,
            }
        )
        response["ETag"] = version_etag(system.version)
        response["Cache-Control"] = "private, no-cache"
        return response
