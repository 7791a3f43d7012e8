"""Output serializers of API v1: teams, systems and their elements (what clients read).

Every field is read-only here; writes go through the input serializers in
``workbench.api.inputs`` and then a service. Ids of related elements are plain integers.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from workbench.models import Asset, AttackerProfile, DataFlow, System, Team, TrustZone
from workbench.services.elements import ASSET_FIELDS


class ReadOnlyModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose every field is read-only (precise response schema)."""

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields


class TeamSerializer(ReadOnlyModelSerializer):
    role = serializers.CharField(read_only=True, allow_null=True, help_text="Your role in this team.")

    class Meta:
        model = Team
        fields = ["slug", "name", "role"]


class TrustZoneSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = TrustZone
        fields = ["id", "name", "trust_level", "parent", "description"]


class AssetSerializer(ReadOnlyModelSerializer):
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Asset
        fields = ["id", *ASSET_FIELDS, "updated_at"]


class DataFlowSerializer(ReadOnlyModelSerializer):
    crosses_zones = serializers.SerializerMethodField()

    class Meta:
        model = DataFlow
        fields = [
            "id",
            "name",
            "source",
            "target",
            "protocol",
            "authenticated",
            "encrypted",
            "bidirectional",
            "carries",
            "crosses_zones",
            "description",
            "origin",
            "external_id",
            "updated_at",
        ]

    def get_crosses_zones(self, flow: DataFlow) -> bool:
        return flow.source.zone_id != flow.target.zone_id


class AttackerProfileSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = AttackerProfile
        fields = [
            "id",
            "name",
            "capability",
            "entry_zones",
            "entry_assets",
            "attempts_per_year",
            "budget",
            "description",
        ]


class SystemSummarySerializer(ReadOnlyModelSerializer):
    team: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = System
        fields = [
            "slug",
            "name",
            "team",
            "description",
            "risk_appetite",
            "currency",
            "review_due",
            "version",
            "updated_at",
        ]


class SystemDetailSerializer(SystemSummarySerializer):
    zones = TrustZoneSerializer(many=True, read_only=True)
    assets = AssetSerializer(many=True, read_only=True)
    flows = DataFlowSerializer(many=True, read_only=True)
    attackers = AttackerProfileSerializer(many=True, read_only=True)

    class Meta(SystemSummarySerializer.Meta):
        fields = [*SystemSummarySerializer.Meta.fields, "zones", "assets", "flows", "attackers"]
