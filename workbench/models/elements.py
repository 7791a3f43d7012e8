"""Elements of a system: trust zones, assets, data flows and attacker profiles.

Each row carries the system's team (denormalised) so that team scoping is one join. Single-row
invariants live in ``clean()``; services call ``full_clean()`` before every save, so forms, the API
and inventory sync share one set of rules.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from workbench.choices import (
    ActorType,
    AssetKind,
    Authentication,
    Capability,
    Initiator,
    ModelClass,
    OutputGranularity,
    Personnel,
)
from workbench.models.rules import (
    ASSET_RULE_COLUMNS,
    COMPUTE_COST_FIELDS,
    MODEL_KIND_VALUES,
    REPLICATION_FIELDS,
    SERVING_KIND_VALUES,
    asset_field_problems,
    host_kind_error,
)
from workbench.models.system import System
from workbench.models.teams import Team
from workbench.querysets import ElementQuerySet
from workbench.validators import validate_plain_name

NAME_MAX = 120
MONEY = {"max_digits": 18, "decimal_places": 2, "validators": [MinValueValidator(Decimal(0))]}
OPTIONAL_MONEY = {**MONEY, "null": True, "blank": True}
# An asset's security properties, as the risk engine reads them (``AssetData``) and as services,
# forms and the API write them: one list, so a new property cannot reach one and miss another.
ASSET_PROPERTIES = (
    "internet_facing",
    "authentication",
    "mfa",
    "encrypted_at_rest",
    "rate_limited",
    "rate_limit_per_minute",
    "output_granularity",
    "model_class",
    "logging",
    "monitored",
    "third_party",
    "runs_untrusted_code",
    "prompt_cache_shared",
    "streaming",
    "instances",
    "personnel",
)


def validate_tags(value: Any) -> None:
    """Tags are a short list of short strings; anything else is refused."""
    if not isinstance(value, list) or len(value) > 32:
        raise ValidationError("Tags must be a list of at most 32 strings.")
    for tag in value:
        if not isinstance(tag, str) or not tag.strip() or len(tag) > 40:
            raise ValidationError("Each tag must be a non-empty string of at most 40 characters.")


def blank_name_errors(name: str | None) -> dict[str, str]:
    """The error of an element whose name is only white space (the field's own checks let it by)."""
    return {"name": "Name must not be blank."} if name is not None and not name.strip() else {}


class TrustZone(models.Model):
    """A trust boundary; level 0 is the internet, 4 an isolated enclave."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="zones")
    name = models.CharField(max_length=NAME_MAX, validators=[validate_plain_name])
    trust_level = models.PositiveSmallIntegerField(validators=[MaxValueValidator(4)], default=2)
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children")
    description = models.TextField(blank=True, max_length=2000)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["trust_level", "name"]
        constraints = [
            models.UniqueConstraint(fields=["system", "name"], name="%(app_label)s_%(class)s_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (trust {self.trust_level})"

    def clean(self) -> None:
        if errors := blank_name_errors(self.name):
            raise ValidationError(errors)
        if self.parent_id is not None:
            if self.parent is not None and self.parent.system_id != self.system_id:
                raise ValidationError({"parent": "The parent zone belongs to another system."})
            # Walk up the chain: a zone may not become its own ancestor.
            seen = {self.pk}
            node = self.parent
            while node is not None:
                if node.pk in seen:
                    raise ValidationError({"parent": "Zones cannot be nested in a cycle."})
                seen.add(node.pk)
                node = node.parent


def _all_or_none_ordered(names: tuple[str, str, str]) -> Q:
    low, likely, high = names
    none = Q(**{f"{name}__isnull": True for name in names})
    ordered = Q(**{f"{name}__isnull": False for name in names}) & Q(
        **{f"{low}__lte": models.F(likely), f"{likely}__lte": models.F(high)}
    )
    return none | ordered


class Asset(models.Model):
    """Something an attacker may steal or pass through: data, a service, a host or a person.

    Data assets (``DATA_KINDS``) live in copies on other assets (``AssetCopy``: stored on,
    loaded on); ``hosted_on`` is the machine a service or agent runs on. An endpoint ``serves``
    models: querying it can clone their function without reaching their weights.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="assets")
    zone = models.ForeignKey(TrustZone, on_delete=models.SET_NULL, null=True, blank=True, related_name="assets")
    hosted_on = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hosted_assets",
        help_text="For services and agents: the machine they run on. Data assets have copies instead.",
    )
    name = models.CharField(max_length=NAME_MAX, validators=[validate_plain_name])
    kind = models.CharField(max_length=32, choices=AssetKind.choices)
    description = models.TextField(blank=True, max_length=5000)
    criticality = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(5)])
    value_min = models.DecimalField(default=Decimal(0), **MONEY)  # type: ignore[arg-type]
    value_likely = models.DecimalField(default=Decimal(0), **MONEY)  # type: ignore[arg-type]
    value_max = models.DecimalField(default=Decimal(0), **MONEY)  # type: ignore[arg-type]
    # Theft-relevant properties (the rule engine's vocabulary).
    internet_facing = models.BooleanField(default=False)
    authentication = models.CharField(max_length=16, choices=Authentication.choices, default=Authentication.SSO)
    mfa = models.BooleanField(default=False)
    encrypted_at_rest = models.BooleanField(default=False)
    rate_limited = models.BooleanField(default=False)
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)
    output_granularity = models.CharField(
        max_length=10, choices=OutputGranularity.choices, default=OutputGranularity.NONE, blank=True
    )
    model_class = models.CharField(max_length=12, choices=ModelClass.choices, default=ModelClass.NONE, blank=True)
    logging = models.BooleanField(default=False)
    monitored = models.BooleanField(default=False, help_text="Alerts on anomalous use are reviewed.")
    third_party = models.BooleanField(default=False, help_text="Operated by another organisation.")
    runs_untrusted_code = models.BooleanField(
        default=False, help_text="Runs code that users supply or an agent writes from untrusted input."
    )
    prompt_cache_shared = models.BooleanField(
        default=False, help_text="The prompt / KV cache is shared across users or tenants (timing side channel)."
    )
    streaming = models.BooleanField(default=False, help_text="Answers are streamed token by token.")
    instances = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="Identical instances (a fleet of hosts, devices); each holds its own copy of what is stored on it.",
    )
    personnel = models.CharField(max_length=12, choices=Personnel.choices, default=Personnel.NONE, blank=True)
    # What a functional clone of a model is worth (distillation, extraction through what serves it).
    replication_value_min = models.DecimalField(**OPTIONAL_MONEY)  # type: ignore[arg-type]
    replication_value_likely = models.DecimalField(
        **OPTIONAL_MONEY,  # type: ignore[arg-type]
        help_text="Models only: what a functional clone is worth (min / likely / max, each ≤ the value).",
    )
    replication_value_max = models.DecimalField(**OPTIONAL_MONEY)  # type: ignore[arg-type]
    # What an abuser can burn per day through an interface that runs a model (cost harvesting).
    compute_cost_min = models.DecimalField(**OPTIONAL_MONEY)  # type: ignore[arg-type]
    compute_cost_likely = models.DecimalField(
        **OPTIONAL_MONEY,  # type: ignore[arg-type]
        help_text="Endpoints, gateways, agents: compute an abuser can burn per day (min / likely / max).",
    )
    compute_cost_max = models.DecimalField(**OPTIONAL_MONEY)  # type: ignore[arg-type]
    serves = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="served_by",
        help_text="Endpoints, gateways, agents: the models whose answers they return.",
    )
    size_gb = models.DecimalField(
        max_digits=12, decimal_places=3, null=True, blank=True, validators=[MinValueValidator(Decimal(0))]
    )
    tags = models.JSONField(default=list, blank=True, validators=[validate_tags])
    source = models.CharField(max_length=64, blank=True, default="")
    external_id = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "source", "external_id"],
                condition=~Q(external_id=""),
                name="%(app_label)s_%(class)s_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(value_min__lte=models.F("value_likely")) & Q(value_likely__lte=models.F("value_max")),
                name="%(app_label)s_%(class)s_value_ordered",
            ),
            # The database keeps what asset_money_errors() says, for writers that bypass clean().
            models.CheckConstraint(
                condition=_all_or_none_ordered(REPLICATION_FIELDS)
                & (
                    Q(replication_value_min__isnull=True)
                    | Q(
                        kind__in=sorted(MODEL_KIND_VALUES),
                        replication_value_min__lte=models.F("value_min"),
                        replication_value_likely__lte=models.F("value_likely"),
                        replication_value_max__lte=models.F("value_max"),
                    )
                ),
                name="%(app_label)s_%(class)s_replication_value_valid",
            ),
            models.CheckConstraint(
                condition=_all_or_none_ordered(COMPUTE_COST_FIELDS)
                & (Q(compute_cost_min__isnull=True) | Q(kind__in=sorted(SERVING_KIND_VALUES))),
                name="%(app_label)s_%(class)s_compute_cost_valid",
            ),
        ]
        indexes = [models.Index(fields=["system", "kind"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = blank_name_errors(self.name)
        if self.zone_id is not None and self.zone is not None and self.zone.system_id != self.system_id:
            errors["zone"] = "The zone belongs to another system."
        if self.hosted_on_id is not None and self.hosted_on is not None:
            if self.hosted_on.system_id != self.system_id:
                errors["hosted_on"] = "The host belongs to another system."
            elif self.pk is not None and self.hosted_on_id == self.pk:
                errors["hosted_on"] = "An asset cannot be hosted on itself."
            elif problem := host_kind_error(self.hosted_on.kind):
                errors["hosted_on"] = problem
        if self.external_id and not self.source:
            errors["source"] = "An external id needs a source."
        # The rules between this row's own columns: one function shared with the form, the API
        # and inventory sync (``workbench.models.rules``).
        for name, message in asset_field_problems({name: getattr(self, name) for name in ASSET_RULE_COLUMNS}).items():
            errors.setdefault(name, message)
        if errors:
            raise ValidationError(errors)

    def audit_relations(self) -> dict[str, list[int]]:
        """Where the copies of this asset are, for audit snapshots (``services.common.snapshot``):
        holder ids per mode, stored ones in order (the first is the system of record)."""
        state: dict[str, list[int]] = {"stored_on": [], "loaded_on": []}
        for holder_id, mode in self.copies.order_by("mode", "position", "pk").values_list("holder_id", "mode"):
            state[f"{mode}_on"].append(holder_id)
        return state


class DataFlow(models.Model):
    """A flow between two assets of the same system, pointing the way its main payload moves.

    ``initiator`` says which end opens the connection: a GPU host pulling weights from a
    registry is a flow registry -> host opened by the target. Zone crossing is derived.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="flows")
    name = models.CharField(max_length=NAME_MAX, validators=[validate_plain_name])
    source = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="outgoing_flows")
    target = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="incoming_flows")
    protocol = models.CharField(max_length=40, blank=True)
    authenticated = models.BooleanField(default=True)
    encrypted = models.BooleanField(default=True)
    bidirectional = models.BooleanField(default=False)
    initiator = models.CharField(
        max_length=6,
        choices=Initiator.choices,
        default=Initiator.SOURCE,
        help_text="Which end opens the connection; the flow points the way its payload moves.",
    )
    carries = models.ManyToManyField(Asset, blank=True, related_name="carried_by")
    description = models.TextField(blank=True, max_length=2000)
    origin = models.CharField("source system", max_length=64, blank=True, default="")
    external_id = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="%(app_label)s_%(class)s_no_self_loop"
            ),
            models.UniqueConstraint(
                fields=["system", "origin", "external_id"],
                condition=~Q(external_id=""),
                name="%(app_label)s_%(class)s_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = blank_name_errors(self.name)
        if self.source_id is not None and self.source_id == self.target_id:
            errors["target"] = "A flow cannot go from an asset to itself."
        for field in ("source", "target"):
            end = getattr(self, field) if getattr(self, f"{field}_id") is not None else None
            if end is not None and end.system_id != self.system_id:
                errors[field] = "This asset belongs to another system."
        if errors:
            raise ValidationError(errors)

    @property
    def crosses_zones(self) -> bool:
        return self.source.zone_id != self.target.zone_id


class AttackerProfile(models.Model):
    """Who attacks, with which RAND capability, from where and how often."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="attackers")
    name = models.CharField(max_length=NAME_MAX, validators=[validate_plain_name])
    capability = models.CharField(max_length=3, choices=Capability.choices, default=Capability.OC2)
    actor_type = models.CharField(
        max_length=8,
        choices=ActorType.choices,
        default=ActorType.EXTERNAL,
        help_text="Insiders misuse the access they hold; suppliers act through what they supply.",
    )
    entry_zones = models.ManyToManyField(TrustZone, blank=True, related_name="attackers")
    entry_assets = models.ManyToManyField(Asset, blank=True, related_name="attackers")
    attempts_per_year = models.DecimalField(
        max_digits=10, decimal_places=3, default=Decimal(1), validators=[MinValueValidator(Decimal(0))]
    )
    budget = models.DecimalField(default=Decimal(0), **MONEY)  # type: ignore[arg-type]
    description = models.TextField(blank=True, max_length=2000)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["capability", "name"]
        constraints = [
            models.UniqueConstraint(fields=["system", "name"], name="%(app_label)s_%(class)s_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.capability})"

    def clean(self) -> None:
        if errors := blank_name_errors(self.name):
            raise ValidationError(errors)
