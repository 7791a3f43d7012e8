"""Domain models of the modelling app (DESIGN.md §3), one module per aggregate."""

from workbench.models.audit import AuditEvent
from workbench.models.copies import AssetCopy
from workbench.models.elements import Asset, AttackerProfile, DataFlow, TrustZone
from workbench.models.inventory import InventorySync
from workbench.models.jobs import Job
from workbench.models.layout import AssetPosition
from workbench.models.system import System
from workbench.models.teams import ApiToken, Membership, Team

__all__ = [
    "ApiToken",
    "Asset",
    "AssetCopy",
    "AssetPosition",
    "AttackerProfile",
    "AuditEvent",
    "DataFlow",
    "InventorySync",
    "Job",
    "Membership",
    "System",
    "Team",
    "TrustZone",
]
