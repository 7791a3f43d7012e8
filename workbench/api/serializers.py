"""Output serializers for systems and their elements (read side of API v1)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from workbench.models import Asset, AttackerProfile, DataFlow, System, TrustZone
from workbench.services.elements import ASSET_FIELDS


class TrustZoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrustZone
        fields = ["id", "name", "trust_level", "parent", "description"]


class AssetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Asset
        fields = ["id", *ASSET_FIELDS, "updated_at"]


class DataFlowSerializer(serializers.ModelSerializer):
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


class AttackerProfileSerializer(serializers.ModelSerializer):
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


class SystemListSerializer(serializers.ModelSerializer):
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


class SystemDetailSerializer(SystemListSerializer):
    zones = TrustZoneSerializer(many=True, read_only=True)
    assets = AssetSerializer(many=True, read_only=True)
    flows = DataFlowSerializer(many=True, read_only=True)
    attackers = AttackerProfileSerializer(many=True, read_only=True)

    class Meta(SystemListSerializer.Meta):
        fields = [*SystemListSerializer.Meta.fields, "zones", "assets", "flows", "attackers"]
