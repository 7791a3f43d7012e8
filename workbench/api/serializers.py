"""Output serializers of API v1: teams, systems and their elements (what clients read).

Every field is read-only here; writes go through the input serializers in
``workbench.api.inputs`` and then a service. Ids of related elements are plain integers.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from workbench.choices import CopyMode
from workbench.models import Asset, AttackerProfile, DataFlow, System, Team, TrustZone
from workbench.services.elements import ASSET_FIELDS, ASSET_RELATIONS, FLOW_FIELDS


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


def holders(asset: Asset, mode: str) -> list[int]:
    """Ids of the assets holding ``asset``'s copies of ``mode``, in order (reads prefetched copies)."""
    copies = sorted((copy for copy in asset.copies.all() if copy.mode == mode), key=lambda copy: copy.position)
    return [copy.holder_id for copy in copies]


ID_LIST = serializers.ListField(child=serializers.IntegerField())


class AssetSerializer(ReadOnlyModelSerializer):
    """An asset; a data asset's copies are ``stored_on`` (first: system of record) and ``loaded_on``."""

    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    stored_on = serializers.SerializerMethodField(
        help_text="Assets holding a persistent copy; the first is the system of record."
    )
    loaded_on = serializers.SerializerMethodField(help_text="Hosts holding it in memory while in use.")

    class Meta:
        model = Asset
        fields = ["id", *ASSET_FIELDS, *ASSET_RELATIONS, "updated_at"]

    @extend_schema_field(ID_LIST)
    def get_stored_on(self, asset: Asset) -> list[int]:
        return holders(asset, CopyMode.STORED)

    @extend_schema_field(ID_LIST)
    def get_loaded_on(self, asset: Asset) -> list[int]:
        return holders(asset, CopyMode.LOADED)


class DataFlowSerializer(ReadOnlyModelSerializer):
    crosses_zones = serializers.SerializerMethodField()

    class Meta:
        model = DataFlow
        fields = ["id", *FLOW_FIELDS, "carries", "crosses_zones", "updated_at"]

    def get_crosses_zones(self, flow: DataFlow) -> bool:
        return flow.source.zone_id != flow.target.zone_id


class AttackerProfileSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = AttackerProfile
        fields = [
            "id",
            "name",
            "capability",
            "actor_type",
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
