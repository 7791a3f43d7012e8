"""The control catalogue and how well each control works against each threat.

The catalogue belongs to threats: its loader, seeder, pages and API live here, and the risk
engine reads it. It moved from ``mitigations`` (ADR 0004) without copying data, so the tables
keep the names they were created with (``db_table`` and the constraint name are explicit).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from threats.models.library import ThreatTemplate


class ControlType(models.TextChoices):
    PREVENTIVE = "preventive", "Preventive"
    DETECTIVE = "detective", "Detective"
    CORRECTIVE = "corrective", "Corrective"


class Pricing(models.TextChoices):
    PER_ELEMENT = "per_element", "Per covered asset or flow"
    PER_SYSTEM = "per_system", "Once per system"


class Control(models.Model):
    """A security control from the library (``threats/library/controls.yaml``)."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField()
    type = models.CharField(max_length=12, choices=ControlType.choices)
    cost_one_off_min = models.DecimalField(max_digits=14, decimal_places=2)
    cost_one_off_max = models.DecimalField(max_digits=14, decimal_places=2)
    cost_yearly_min = models.DecimalField(max_digits=14, decimal_places=2)
    cost_yearly_max = models.DecimalField(max_digits=14, decimal_places=2)
    atlas_mitigation_ids = models.JSONField(default=list)
    rand_sl = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    asset_kinds = models.JSONField(default=list, help_text="Where it is put in force; empty = organisation-wide.")
    pricing = models.CharField(max_length=12, choices=Pricing.choices, default=Pricing.PER_SYSTEM)
    capability_decay = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.7"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text="Multiplier on effectiveness per OC level above rand_sl.",
    )
    flows = models.BooleanField(default=False, help_text="Can be put in force on data flows.")
    threats = models.ManyToManyField(ThreatTemplate, through="ThreatControl", related_name="controls")
    definition = models.JSONField(help_text="The entry exactly as in the library file.")
    library_version = models.CharField(max_length=40)
    content_hash = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "mitigations_control"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("threats:control_detail", kwargs={"code": self.code})


class ControlScope(models.TextChoices):
    ANY = "any", "On the target, a flow end or system-wide"
    JEWEL = "jewel", "On the stolen jewel itself"


class ThreatControl(models.Model):
    """How much a control lowers a threat's success probability, and the evidence for it.

    ``effectiveness`` is the figure as the library gives it (a plain number, or the largest of a
    per-OC mapping); ``effectiveness_by_oc`` the five figures the engines use, decayed above the
    control's RAND level.
    """

    threat = models.ForeignKey(ThreatTemplate, on_delete=models.CASCADE, related_name="control_links")
    control = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="threat_links")
    effectiveness = models.DecimalField(
        max_digits=4, decimal_places=3, validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))]
    )
    effectiveness_by_oc = models.JSONField(default=list, help_text="Effectiveness against OC1..OC5.")
    on = models.CharField(max_length=8, choices=ControlScope.choices, default=ControlScope.ANY)
    evidence_source = models.CharField(max_length=300)
    evidence_figure = models.TextField()

    class Meta:
        db_table = "mitigations_threatcontrol"
        ordering = ["threat", "-effectiveness"]
        constraints = [
            models.UniqueConstraint(fields=["threat", "control"], name="mitigations_threatcontrol_unique_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.control.code} vs {self.threat.code}: {self.effectiveness}"
