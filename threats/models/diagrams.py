"""Rendered diagrams and attack paths of a system, tagged with the system version they show.

``RenderedDiagram`` is a content-addressed cache: one row per distinct DOT text (its sha256), so
identical DOT is laid out by ``dot`` once, whichever system or version produced it. Each system
points at its latest diagram of each kind through ``SystemDiagram``; rows nothing points at any
more are pruned (``threats.services.diagrams.prune_render_cache``). ``SystemAttackPaths`` holds
the k most probable paths per attacker profile x crown jewel that the diagram was drawn from.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from workbench.models import System


class DiagramKind(models.TextChoices):
    DFD = "dfd", "Data-flow diagram"
    ATTACK_PATHS = "attack-paths", "Attack paths"


class DiagramState(models.TextChoices):
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class RenderedDiagram(models.Model):
    """The sanitised SVG (and, once asked for, the PNG) of one DOT text, keyed by its hash.

    Shared across teams on purpose: the key is the full text, so equal keys mean equal pictures,
    and a row is only ever reached through a team-scoped ``SystemDiagram``.
    """

    dot_hash = models.CharField(max_length=64, unique=True)
    dot = models.TextField(help_text="The DOT text, kept to render the PNG on demand.")
    svg = models.BinaryField()
    png = models.BinaryField(null=True, blank=True)
    png_error = models.TextField(blank=True, help_text="Why the PNG could not be rendered (not retried).")
    nodes = models.PositiveIntegerField(default=0)
    edges = models.PositiveIntegerField(default=0)
    render_seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(default=timezone.now, help_text="Last time a render was answered from here.")

    class Meta:
        indexes = [models.Index(fields=["used_at"])]

    def __str__(self) -> str:
        return f"diagram {self.dot_hash[:12]}"


class SystemDiagram(models.Model):
    """A system's latest diagram of one kind: which version it shows and where its picture is."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="diagrams")
    kind = models.CharField(max_length=16, choices=DiagramKind.choices)
    version = models.PositiveBigIntegerField(default=0, help_text="System version this diagram shows.")
    state = models.CharField(max_length=8, choices=DiagramState.choices, default=DiagramState.READY)
    error = models.TextField(blank=True)
    dot_hash = models.CharField(max_length=64, blank=True)
    rendered = models.ForeignKey(
        RenderedDiagram, on_delete=models.SET_NULL, null=True, blank=True, related_name="diagrams"
    )
    capped = models.BooleanField(default=False, help_text="Above the node or edge cap: only part is drawn.")
    summary = models.JSONField(default=dict, help_text="Drawn nodes and edges, what was left out, render time.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "kind"], name="%(app_label)s_%(class)s_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.system} at v{self.version}"


class SystemAttackPaths(models.Model):
    """The k most probable attack paths per profile x crown jewel, for one system version.

    ``pairs``: one entry per (profile, target) with its paths, most probable first; each path
    lists its hops with probability, factors and the controls in force on the asset entered.
    """

    system = models.OneToOneField(System, on_delete=models.CASCADE, related_name="attack_paths")
    version = models.PositiveBigIntegerField(default=0, help_text="System version of these paths.")
    computed_at = models.DateTimeField(null=True, blank=True)
    k = models.PositiveSmallIntegerField(default=5)
    pairs = models.JSONField(default=list)
    summary = models.JSONField(default=dict, help_text="Crown jewels found and analysed, pairs cut by the time limit.")

    def __str__(self) -> str:
        return f"attack paths of {self.system} at v{self.version}"
