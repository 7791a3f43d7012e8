"""API v1 reads of the diagram editor: the graph in one answer, and a cheap version probe.

``GET /systems/{slug}/graph/`` gives the editor everything it draws (zones, assets, flows, saved
positions) plus the findings of every element for the side panel and ``risk_version``, the results
version those findings belong to (so a poll that brings nothing new redraws nothing), as flat
``values()`` rows: a system of 500 assets and 1,500 flows must load in well under a second, so no
per-row serializer.
The ``ETag`` is the system version, which the editor sends back in ``If-Match`` on its batch.

The answer is bounded whatever the system's size (issue 13, point 5: a viewer's read of a
100,000-asset system was 108 MB). At most ``EDITOR_GRAPH_MAX_ELEMENTS`` zones, assets and flows
come at ``"level": "full"``; a bigger system answers ``"level": "zones"``: at most that many
zones with their asset counts and pairs of zones with the number of flows between them,
nothing per asset. ``?zone=<id>`` narrows the graph to one zone's assets and the flows among
them, at full detail when that fits. ``totals`` always counts the whole system.

``GET /systems/{slug}/version/`` is what every open system page polls every few seconds to tell
its user that someone else changed the model (and who), without reloading anything heavy.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from threats.models import Finding, FindingStatus, SystemRisk
from threats.selectors_risk import risk_freshness
from workbench.api.base import SLUG_PARAMETER, SystemScopedMixin
from workbench.api.etags import version_etag
from workbench.bounds import INT64_MAX
from workbench.choices import AssetKind, Authentication, ModelClass, OutputGranularity
from workbench.models import Asset, AssetPosition, AuditEvent, DataFlow, System, TrustZone
from workbench.permissions import TeamCapability

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
        "level": serializers.ChoiceField(
            choices=["full", "zones"], help_text="`zones`: too big to draw per asset; zones and flow counts only."
        ),
        "zone": serializers.IntegerField(allow_null=True, help_text="The zone asked for with `?zone=`, or null."),
        "limit": serializers.IntegerField(help_text="Most zones, assets and flows drawn at full detail."),
        "totals": serializers.DictField(
            child=serializers.IntegerField(), help_text="Zones, assets and flows of the whole system."
        ),
        "unzoned_assets": serializers.IntegerField(required=False, help_text="At `zones` level: assets in no zone."),
        "truncated": serializers.BooleanField(help_text="At `zones` level: more zones or zone pairs than `limit`."),
        "zone_flows": serializers.ListField(
            child=serializers.DictField(), help_text="At `zones` level: flows counted per (source_zone, target_zone)."
        ),
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


def _findings_by_target(system_id: int, keys: set[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Applicable findings per ``target_key`` (``asset:<id>``, ``flow:<id>``), all or of ``keys``."""
    found = Finding.objects.filter(system_id=system_id)
    if keys is not None:
        found = found.filter(target_key__in=sorted(keys))
    rows = (
        found.exclude(status=FindingStatus.NOT_APPLICABLE)
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


def graph_limit() -> int:
    return int(getattr(settings, "EDITOR_GRAPH_MAX_ELEMENTS", 5000))


class GraphQuery(serializers.Serializer):
    zone = serializers.IntegerField(required=False, min_value=1, max_value=INT64_MAX)


def _full(system: System, assets: QuerySet[Asset], flows: QuerySet[DataFlow], whole: bool) -> dict[str, Any]:
    """Every element in scope, as the editor draws it (the answer before issue 13)."""
    asset_rows = list(assets.order_by("pk").values(*ASSET_KEYS))
    flow_rows = list(flows.order_by("pk").values(*FLOW_KEYS))
    positions = AssetPosition.objects.filter(system=system)
    if not whole:
        positions = positions.filter(asset__in=assets)
    keys = None if whole else {f"asset:{row['id']}" for row in asset_rows} | {f"flow:{row['id']}" for row in flow_rows}
    return {
        "level": "full",
        "truncated": False,
        "zone_flows": [],
        "zones": list(TrustZone.objects.filter(system=system).values(*ZONE_KEYS)),
        "assets": asset_rows,
        "flows": flow_rows,
        "positions": {str(pk): [x, y] for pk, x, y in positions.values_list("asset_id", "x", "y")},
        "findings": _findings_by_target(system.pk, keys),
    }


def _zones(system: System, limit: int) -> dict[str, Any]:
    """Zones with their asset counts and flows counted per pair of zones, at most ``limit`` each."""
    per_zone = Asset.objects.filter(system=system).order_by().values("zone").annotate(n=Count("id"))
    counts = {row["zone"]: row["n"] for row in per_zone}
    zones = list(TrustZone.objects.filter(system=system).order_by("pk").values(*ZONE_KEYS)[: limit + 1])
    pairs = list(
        DataFlow.objects.filter(system=system)
        .order_by()
        .values("source__zone", "target__zone")
        .annotate(count=Count("id"))
        .order_by("-count", "source__zone", "target__zone")[: limit + 1]
    )
    for zone in zones:
        zone["asset_count"] = counts.get(zone["id"], 0)
    return {
        "level": "zones",
        "truncated": len(zones) > limit or len(pairs) > limit,
        "unzoned_assets": counts.get(None, 0),
        "zone_flows": [
            {"source_zone": p["source__zone"], "target_zone": p["target__zone"], "count": p["count"]}
            for p in pairs[:limit]
        ],
        "zones": zones[:limit],
        "assets": [],
        "flows": [],
        "positions": {},
        "findings": {},
    }


class SystemGraphView(SystemScopedMixin, APIView):  # type: ignore[misc]  # DRF narrows View.request to Request
    """Everything the editor draws, in one read of bounded size."""

    @extend_schema(
        summary="The system as a graph for the diagram editor (bounded: level of detail by size)",
        parameters=[
            SLUG_PARAMETER,
            OpenApiParameter(
                "zone",
                OpenApiTypes.INT,
                required=False,
                description="Only this zone's assets and the flows among them.",
            ),
        ],
        responses={200: GRAPH},
        tags=["editor"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        system = self.get_system()
        query = GraphQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        zone_id = query.validated_data.get("zone")
        assets, flows = Asset.objects.filter(system=system), DataFlow.objects.filter(system=system)
        zones = TrustZone.objects.filter(system=system)
        totals = {"zones": zones.count(), "assets": assets.count(), "flows": flows.count()}
        if zone_id is not None:
            if not zones.filter(pk=zone_id).exists():
                raise ValidationError({"zone": ["No such zone in this system."]})
            assets = assets.filter(zone_id=zone_id)
            flows = flows.filter(Q(source__zone_id=zone_id) & Q(target__zone_id=zone_id))
            in_scope = totals["zones"] + assets.count() + flows.count()
        else:
            in_scope = sum(totals.values())
        limit = graph_limit()
        # Read before the findings: if results land in between, the editor sees an older version
        # than its findings and reloads once more, never the other way round (a stale panel).
        risk_version = SystemRisk.objects.filter(system=system).values_list("computed_version", flat=True).first()
        detail = _full(system, assets, flows, zone_id is None) if in_scope <= limit else _zones(system, limit)
        data = {
            **detail,
            "zone": zone_id,
            "limit": limit,
            "totals": totals,
            "version": system.version,
            "risk_version": risk_version or 0,
            "can_edit": detail["level"] == "full"
            and TeamCapability.EDIT_MODEL in system.capabilities
            and not getattr(request.auth, "read_only", False),
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
