"""MITRE ATLAS reference data: tactics, techniques, mitigations, case studies and their release.

These rows are global (not team-scoped): every team's threat library points at the same ATLAS
ids. They are written only by ``threats.services.atlas`` (``atlas_import`` for an upstream
export, ``atlas_load_shipped`` for the derived names shipped in ``threats/library/``), which
upsert by ``atlas_id`` so that re-importing a release is a no-op and foreign keys survive.
"""

from __future__ import annotations

from django.db import models


class AtlasEntry(models.Model):
    """What every ATLAS object has: its ATLAS id (the key re-imports upsert by) and its name."""

    atlas_id = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        abstract = True
        ordering = ["atlas_id"]

    def __str__(self) -> str:
        return f"{self.atlas_id} {self.name}"


class AtlasTactic(AtlasEntry):
    """An ATLAS tactic (AML.TAnnnn): the adversary's goal, one column of the ATLAS matrix."""

    description = models.TextField(blank=True)


class AtlasTechnique(AtlasEntry):
    """An ATLAS technique (AML.Tnnnn) or sub-technique (AML.Tnnnn.nnn, with ``parent`` set).

    Sub-techniques carry no tactics in the ATLAS file; the importer stores the parent's tactics
    on them too, so "techniques under tactic X" is one query instead of a walk up the tree.
    """

    description = models.TextField(blank=True)
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="subtechniques")
    tactics = models.ManyToManyField(AtlasTactic, blank=True, related_name="techniques")
    maturity = models.CharField(
        max_length=32, blank=True, help_text="ATLAS evidence level: feasible, demonstrated or realized."
    )


class AtlasMitigation(AtlasEntry):
    """An ATLAS mitigation (AML.Mnnnn) and the techniques ATLAS says it helps against."""

    description = models.TextField(blank=True)
    category = models.CharField(
        max_length=100, blank=True, help_text='ATLAS categories joined by ", " (e.g. "Technical - ML").'
    )
    techniques = models.ManyToManyField(AtlasTechnique, blank=True, related_name="mitigations")


class AtlasCaseStudy(AtlasEntry):
    """An ATLAS case study (AML.CSnnnn), by id and name; its summary and procedure stay upstream."""

    class Meta(AtlasEntry.Meta):
        verbose_name = "ATLAS case study"
        verbose_name_plural = "ATLAS case studies"


class AtlasRelease(models.Model):
    """One imported ATLAS data version; re-importing the same version updates this row in place."""

    version = models.CharField(max_length=32, unique=True)
    imported_at = models.DateTimeField(auto_now_add=True)
    counts = models.JSONField(default=dict, help_text="Objects in the file: tactics, techniques, mitigations, links.")

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"ATLAS {self.version}"
