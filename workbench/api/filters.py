"""django-filter FilterSets of API v1 listings (``?kind=``, ``?zone=``, ``?tag=``, ``?updated_since=``).

Ids are integers (a float, a word or a number beyond 64 bits is a 400, never a silent match or
a database error), ``updated_since`` is an ISO 8601 instant compared with ``>=`` so a feed
client that re-reads from its last timestamp never misses a row written in the same instant.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters as filters
from django import forms
from django.db import connections
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from workbench.bounds import BoundedIntegerField
from workbench.choices import ActorType, AssetKind, Capability, CopyMode, Initiator
from workbench.models import Asset, AttackerProfile, DataFlow, System, TrustZone

UPDATED_SINCE_HELP = "Only rows changed at or after this instant (ISO 8601, e.g. 2026-01-31T12:00:00Z)."


class InstantField(filters.fields.IsoDateTimeField):
    """An ISO 8601 instant, sent to the database in UTC.

    PostgreSQL refuses UTC offsets beyond ±15:59 (Python accepts up to ±23:59), and an instant
    near year 1 can leave the calendar once moved to UTC; both answered 500 before. Either is a
    400 now, and every accepted instant reaches the query as UTC.
    """

    def to_python(self, value: Any) -> Any:
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError as exc:
            raise forms.ValidationError("Enter an instant between years 1 and 9999.", code="invalid") from exc


class InstantFilter(filters.IsoDateTimeFilter):
    field_class = InstantField


class IntegerFilter(filters.NumberFilter):
    field_class = BoundedIntegerField


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``); anything else is an error, not "no filter"."""

    widget = forms.TextInput  # the default select widget turns unknown words into "no filter"

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]  # None: no filter
        if value in (None, ""):
            return None
        if value in (True, "true", "True", "1"):
            return True
        if value in (False, "false", "False", "0"):
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")

    def validate(self, value: Any) -> None:
        return None


class BooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField


def json_list_contains(queryset: QuerySet[Any], column: str, value: str) -> QuerySet[Any]:
    """Rows whose JSON list ``column`` holds the string ``value`` exactly.

    PostgreSQL answers ``@>`` (``__contains``); SQLite, the embedded default, has no JSON
    containment in Django, so it asks ``json_each`` for an equal element instead.
    """
    connection = connections[queryset.db]
    if connection.features.supports_json_field_contains:
        return queryset.filter(**{f"{column}__contains": [value]})
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    sql = f"EXISTS (SELECT 1 FROM json_each({table}.{connection.ops.quote_name(column)}) WHERE value = %s)"  # noqa: S608 - identifiers come from the model, the value is a parameter
    has_value = RawSQL(sql, [value], output_field=BooleanField())  # noqa: S611 - the value is a parameter
    return queryset.alias(_has_value=has_value).filter(_has_value=True)


class SystemFilter(filters.FilterSet):
    team = filters.CharFilter(field_name="team__slug", help_text="Team slug.")

    class Meta:
        model = System
        fields = ["team"]


class TrustZoneFilter(filters.FilterSet):
    parent = IntegerFilter(field_name="parent_id")
    trust_level = IntegerFilter(field_name="trust_level")

    class Meta:
        model = TrustZone
        fields = ["parent", "trust_level"]


class AssetFilter(filters.FilterSet):
    kind = filters.MultipleChoiceFilter(choices=AssetKind.choices, help_text="Repeat for several kinds.")
    zone = IntegerFilter(field_name="zone_id", help_text="Zone id.")
    hosted_on = IntegerFilter(field_name="hosted_on_id", help_text="Host asset id.")
    stored_on = IntegerFilter(method="filter_stored_on", help_text="Data assets with a stored copy on this asset id.")
    loaded_on = IntegerFilter(method="filter_loaded_on", help_text="Data assets loaded in memory on this asset id.")
    serves = IntegerFilter(field_name="serves", help_text="Endpoints, gateways and agents serving this model id.")
    tag = filters.CharFilter(method="filter_tag", max_length=40, help_text="Assets carrying this tag.")
    source = filters.CharFilter(help_text="Inventory source that owns the asset.")
    external_id = filters.CharFilter()
    internet_facing = BooleanFilter()
    updated_since = InstantFilter(field_name="updated_at", lookup_expr="gte", help_text=UPDATED_SINCE_HELP)

    class Meta:
        model = Asset
        fields = [
            "kind",
            "zone",
            "hosted_on",
            "stored_on",
            "loaded_on",
            "serves",
            "tag",
            "source",
            "external_id",
            "internet_facing",
            "updated_since",
        ]

    # One copy per (asset, holder, mode) and one serves row per pair: these joins never repeat a row.
    def filter_stored_on(self, queryset: QuerySet[Asset], name: str, value: int) -> QuerySet[Asset]:
        return queryset.filter(copies__holder_id=value, copies__mode=CopyMode.STORED)

    def filter_loaded_on(self, queryset: QuerySet[Asset], name: str, value: int) -> QuerySet[Asset]:
        return queryset.filter(copies__holder_id=value, copies__mode=CopyMode.LOADED)

    def filter_tag(self, queryset: QuerySet[Asset], name: str, value: str) -> QuerySet[Asset]:
        return json_list_contains(queryset, "tags", value) if value else queryset


class DataFlowFilter(filters.FilterSet):
    source = IntegerFilter(field_name="source_id", help_text="Source asset id.")
    target = IntegerFilter(field_name="target_id", help_text="Target asset id.")
    asset = IntegerFilter(method="filter_asset", help_text="Flows from or to this asset.")
    zone = IntegerFilter(method="filter_zone", help_text="Flows with an end in this zone.")
    origin = filters.CharFilter(help_text="Inventory source that owns the flow.")
    external_id = filters.CharFilter()
    encrypted = BooleanFilter()
    authenticated = BooleanFilter()
    initiator = filters.ChoiceFilter(choices=Initiator.choices, help_text="Which end opens the connection.")
    updated_since = InstantFilter(field_name="updated_at", lookup_expr="gte", help_text=UPDATED_SINCE_HELP)

    class Meta:
        model = DataFlow
        fields = [
            "source",
            "target",
            "asset",
            "zone",
            "origin",
            "external_id",
            "encrypted",
            "authenticated",
            "initiator",
            "updated_since",
        ]

    def filter_asset(self, queryset: QuerySet[DataFlow], name: str, value: int) -> QuerySet[DataFlow]:
        return queryset.filter(Q(source_id=value) | Q(target_id=value))

    def filter_zone(self, queryset: QuerySet[DataFlow], name: str, value: int) -> QuerySet[DataFlow]:
        return queryset.filter(Q(source__zone_id=value) | Q(target__zone_id=value))


class AttackerProfileFilter(filters.FilterSet):
    capability = filters.MultipleChoiceFilter(choices=Capability.choices)
    actor_type = filters.MultipleChoiceFilter(choices=ActorType.choices, help_text="Repeat for several types.")

    class Meta:
        model = AttackerProfile
        fields = ["capability", "actor_type"]
