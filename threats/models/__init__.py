"""Models of the threat app, one module per aggregate (the control catalogue included)."""

from threats.models.atlas import AtlasCaseStudy, AtlasMitigation, AtlasRelease, AtlasTactic, AtlasTechnique
from threats.models.catalogue import Control, ControlScope, ControlType, Pricing, ThreatControl
from threats.models.comments import FindingComment
from threats.models.diagrams import DiagramKind, DiagramState, RenderedDiagram, SystemAttackPaths, SystemDiagram
from threats.models.findings import Finding, FindingStatus
from threats.models.library import LibraryState, TargetType, ThreatTemplate
from threats.models.risk import SystemRisk

__all__ = [
    "AtlasCaseStudy",
    "AtlasMitigation",
    "AtlasRelease",
    "AtlasTactic",
    "AtlasTechnique",
    "Control",
    "ControlScope",
    "ControlType",
    "DiagramKind",
    "DiagramState",
    "Finding",
    "FindingComment",
    "FindingStatus",
    "LibraryState",
    "Pricing",
    "RenderedDiagram",
    "SystemAttackPaths",
    "SystemDiagram",
    "SystemRisk",
    "TargetType",
    "ThreatControl",
    "ThreatTemplate",
]
