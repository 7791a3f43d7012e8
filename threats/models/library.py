"""Threat templates: the library's threats, loaded from ``threats/library/threats.yaml``.

Rows are global reference data (not team-scoped). ``content_hash`` lets ``seed_library`` upgrade
a row in place only when its definition changed, so re-seeding an unchanged library writes
nothing.
"""

from __future__ import annotations

from django.db import models
from django.urls import reverse


class TargetType(models.TextChoices):
    ASSET = "asset", "Asset"
    FLOW = "flow", "Data flow"


class ThreatRole(models.TextChoices):
    ACCESS = "access", "Access"
    THEFT = "theft", "Theft"
    ENABLER = "enabler", "Enabler"


class ThreatTemplate(models.Model):
    """One way a model (or what leads to it) gets stolen, with its applicability rule.

    The columns mirror the v2 entry (``docs/library-format.md``) for pages, filters and the API;
    ``definition`` keeps the entry itself, which the engines read back.
    """

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField()
    stride = models.CharField(max_length=6, help_text="STRIDE letters, e.g. 'SI'.")
    atlas_ids = models.JSONField(default=list)
    owasp_ids = models.JSONField(default=list)
    # The first RAND vector, for one-line summaries; ``rand_vectors`` holds them all.
    rand_category = models.CharField(max_length=40, blank=True, default="")
    rand_vector = models.CharField(max_length=60, blank=True, default="")
    rand_vectors = models.JSONField(default=list, help_text="RAND vectors: [{category, vector}], may be empty.")
    role = models.CharField(max_length=8, choices=ThreatRole.choices, default=ThreatRole.ACCESS)
    actors = models.JSONField(default=list, help_text="Actor types that can realise it.")
    position = models.CharField(max_length=16, default="", help_text="The first of positions.")
    positions = models.JSONField(default=list, help_text="Where the attacker must stand to try it.")
    loss_form = models.CharField(max_length=8, blank=True, default="", help_text="theft, compute or '' (no loss).")
    loss_yields = models.CharField(max_length=16, blank=True, default="")
    loss_value = models.CharField(max_length=12, blank=True, default="")
    loss_fraction = models.FloatField(null=True, blank=True, help_text="Only with loss_value 'fraction'.")
    query_goal = models.CharField(max_length=12, blank=True, default="")
    boosts = models.JSONField(default=list, help_text="Enablers: the techniques they boost on the same target.")
    boost = models.FloatField(default=0.0)
    target = models.CharField(max_length=8, choices=TargetType.choices)
    asset_kinds = models.JSONField(default=list)
    rule = models.JSONField()
    base_probability = models.JSONField(help_text="Success probability once reached, by OC level.")
    definition = models.JSONField(help_text="The entry exactly as in the library file.")
    library_version = models.CharField(max_length=40)
    content_hash = models.CharField(max_length=64)
    active = models.BooleanField(default=True, help_text="False once a library version drops it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("threats:threat_detail", kwargs={"code": self.code})

    @property
    def stride_letters(self) -> list[str]:
        return list(self.stride)

    @property
    def rand_labels(self) -> list[str]:
        """``category · vector`` for each RAND vector, in library order."""
        return [f"{v['category']} · {v['vector']}" for v in self.rand_vectors]


class LibraryState(models.Model):
    """Which library version is loaded (one row), so upgrades are visible and reported."""

    key = models.CharField(max_length=20, unique=True, default="default")
    version = models.CharField(max_length=40)
    threat_count = models.PositiveIntegerField(default=0)
    control_count = models.PositiveIntegerField(default=0)
    loaded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"library {self.version}"
