"""Input serializers of API v1: they check types and shapes, then a service validates and writes.

Related elements are given by id and must belong to the system in the serializer's context
(``context["system"]``), so another system's zone or asset "does not exist" here exactly as it
would for a form. Unknown keys are refused rather than ignored, so a typo never silently drops
a change. Model rules (value ordering, zone cycles, uniqueness) stay in the models, which the
services run through ``full_clean``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from workbench.models import Asset, AttackerProfile, DataFlow, System, Team, TrustZone
from workbench.models.rules import ASSET_RULE_COLUMNS, DATA_KIND_VALUES, MAX_RELATED, asset_field_problems
from workbench.services.elements import ASSET_FIELDS, ASSET_RELATIONS, ATTACKER_FIELDS, FLOW_FIELDS, ZONE_FIELDS
from workbench.services.systems import SYSTEM_FIELDS


class SystemElementField(serializers.PrimaryKeyRelatedField):
    """The id of an element of the context's system."""

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        system = self.context.get("system")
        if queryset is None or system is None:
            return TrustZone.objects.none()
        return queryset.filter(system=system)


class StrictInput(serializers.ModelSerializer):
    """Refuses keys that are not fields (read-only output fields included)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return attrs

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]}, code="invalid")
        return super().to_internal_value(data)


class TrustZoneInputSerializer(StrictInput):
    """A trust zone: 0 is the internet, 4 an isolated enclave; ``parent`` is a zone of this system."""

    # A declared field named like a Field attribute (parent, source) is fine for DRF's metaclass.
    parent = SystemElementField(queryset=TrustZone.objects.all(), allow_null=True, required=False)  # type: ignore[assignment]

    class Meta:
        model = TrustZone
        validators: list[Any] = []  # uniqueness is the model's rule, checked by the service
        fields = list(ZONE_FIELDS)


class AssetInputSerializer(StrictInput):
    """An asset; ``zone``, ``hosted_on`` and the relation lists are ids in this system.

    Values satisfy min <= likely <= max; a replication value (models only) and a compute cost per
    day (endpoints, gateways, agents) are all three figures or none. ``stored_on`` is ordered (the
    first is the system of record); a list replaces the stored one. On a data asset ``hosted_on``
    stands for ``stored_on`` with that one store.
    """

    zone = SystemElementField(queryset=TrustZone.objects.all(), allow_null=True, required=False)
    hosted_on = SystemElementField(
        queryset=Asset.objects.all(),
        allow_null=True,
        required=False,
        help_text="The machine a service or agent runs on; on a data asset, its one stored copy.",
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=32, required=False, help_text="Short labels."
    )
    stored_on = SystemElementField(
        queryset=Asset.objects.all(),
        many=True,
        required=False,
        help_text="Data assets: stores, hosts or people holding a persistent copy; the first is the system of record.",
    )
    loaded_on = SystemElementField(
        queryset=Asset.objects.all(),
        many=True,
        required=False,
        help_text="Data assets: hosts holding it in memory while in use.",
    )
    serves = SystemElementField(
        queryset=Asset.objects.all(),
        many=True,
        required=False,
        help_text="Endpoints, gateways, agents: the models whose answers they return.",
    )

    class Meta:
        model = Asset
        validators: list[Any] = []  # uniqueness is the model's rule, checked by the service
        fields = [*ASSET_FIELDS, *ASSET_RELATIONS]

    def to_internal_value(self, data: Any) -> Any:
        # Each id is one lookup: refuse an oversized list before looking any of them up.
        if isinstance(data, dict):
            errors = {
                name: [f"At most {MAX_RELATED} assets."]
                for name in ASSET_RELATIONS
                if isinstance(data.get(name), list) and len(data[name]) > MAX_RELATED
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The model's cross-field rules on the asset as it would be after this request.

        Why here as well as in the model (the service's ``full_clean()``): the serializer then
        refuses what its docstring promises on its own, before the service locks the system,
        with the model's messages on the same fields.
        """
        attrs = super().validate(attrs)
        base = self.instance if isinstance(self.instance, Asset) else Asset()
        values = {name: getattr(base, name) for name in ASSET_RULE_COLUMNS}
        values |= {name: value for name, value in attrs.items() if name in values}
        if "hosted_on" in attrs:
            host = attrs["hosted_on"]
            # On a data asset hosted_on names its first stored copy (``services.copies``), not a host.
            values["hosted_on_id"] = None if host is None or values["kind"] in DATA_KIND_VALUES else host.pk
        problems = asset_field_problems(values)
        if problems:
            raise serializers.ValidationError({name: [message] for name, message in problems.items()})
        return attrs


class DataFlowInputSerializer(StrictInput):
    """A flow between two different assets of this system; ``carries`` lists the assets it moves."""

    source = SystemElementField(queryset=Asset.objects.all())  # type: ignore[assignment]
    target = SystemElementField(queryset=Asset.objects.all())
    carries = SystemElementField(queryset=Asset.objects.all(), many=True, required=False)

    class Meta:
        model = DataFlow
        validators: list[Any] = []  # uniqueness is the model's rule, checked by the service
        fields = [*FLOW_FIELDS, "carries"]


class AttackerProfileInputSerializer(StrictInput):
    """An attacker profile with its RAND capability and its entry zones and assets in this system."""

    entry_zones = SystemElementField(queryset=TrustZone.objects.all(), many=True, required=False)
    entry_assets = SystemElementField(queryset=Asset.objects.all(), many=True, required=False)

    class Meta:
        model = AttackerProfile
        validators: list[Any] = []  # uniqueness is the model's rule, checked by the service
        fields = [*ATTACKER_FIELDS, "entry_zones", "entry_assets"]


class SystemInputSerializer(StrictInput):
    """A system's own fields (its elements have endpoints of their own)."""

    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, help_text="ISO 4217 code, e.g. USD.")

    class Meta:
        model = System
        validators: list[Any] = []  # uniqueness is the model's rule, checked by the service
        fields = [field for field in SYSTEM_FIELDS if field != "owner"]


class SystemCreateSerializer(SystemInputSerializer):
    """Also names the team (optional with a token: the token's team) and whether to seed defaults."""

    team: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        required=False,
        help_text="Slug of one of your teams; defaults to the token's team.",
    )
    seed_defaults = serializers.BooleanField(
        default=True, help_text="Add an internet zone and the five default attacker profiles."
    )

    class Meta(SystemInputSerializer.Meta):
        fields = [*SystemInputSerializer.Meta.fields, "team", "seed_defaults"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        teams = Team.objects.none()
        if request is not None:
            teams = Team.objects.visible_to(request.user)
            token_team = self.context.get("token_team_id")
            if token_team is not None:
                teams = teams.filter(pk=token_team)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if "team" not in attrs:
            token_team = self.context.get("token_team_id")
            if token_team is None:
                raise serializers.ValidationError({"team": ["This field is required."]})
            attrs["team"] = Team.objects.get(pk=token_team)
        return attrs
