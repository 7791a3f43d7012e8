"""What threats needs to know about mitigation plans and risk acceptances, declared here.

threats never imports mitigations (ADR 0004): mitigations builds on the findings and the control
catalogue, so an import the other way would make the two apps one. The recompute still needs the
controls that plans put in force and the accepted findings, and the finding page and dashboard
show plans and acceptances; this module says what they need in threats' own terms (engine types
and plain data) and ``mitigations()`` returns the implementation named by one declared binding,
``settings.THREATS_MITIGATIONS_PORT`` (like ``AUTH_USER_MODEL``): no registry filled at start-up,
no signals, no import hidden in a function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from threats.engine.controls import ControlsInForce
from threats.engine.plan_effect import PlanControl

if TYPE_CHECKING:
    from threats.models import Finding
    from workbench.models import System


@dataclass(frozen=True)
class FindingPlan:
    """A plan that addresses a finding, as its page shows it.

    ``scope`` is "finding" (the plan lists this finding), "target" (it covers the finding's asset
    or an end of its flow) or "system" (system-wide); ``effectiveness`` is the library's reduction
    of the plan's control against the finding's threat, None when it has none.
    """

    url: str
    control_code: str
    control_name: str
    status_label: str
    owner_name: str
    scope: str
    effectiveness: Decimal | None


@dataclass(frozen=True)
class FindingAcceptance:
    """One acceptance of a finding's risk, as its page shows it."""

    status_label: str
    end_reason: str
    accepted_by_name: str
    expires_on: date
    justification: str


class MitigationsPort(Protocol):
    """The mitigations app as threats sees it; every method reads, none writes."""

    def plan_entries(self, *, system: System) -> list[PlanControl]:
        """Every implemented and pending plan of the system as the engine prices it, newest first."""
        ...

    def plan_controls(self, *, system: System) -> tuple[ControlsInForce, ControlsInForce]:
        """Controls that plans put in force: (implemented or verified, approved or proposed)."""
        ...

    def accepted_finding_ids(self, *, system_id: int) -> set[int]:
        """Findings of the system with an active risk acceptance."""
        ...

    def finding_plans(self, *, finding: Finding) -> list[FindingPlan]:
        """Plans of the finding's system that address it, newest first, in any status."""
        ...

    def finding_acceptances(self, *, finding: Finding, limit: int) -> list[FindingAcceptance]:
        """The finding's latest acceptances, newest first (at most one is active)."""
        ...

    def proposed_plan_counts(self, *, system_ids: list[int]) -> dict[int, int]:
        """System id -> plans awaiting a decision (proposed); systems without any are left out."""
        ...


@cache
def mitigations() -> MitigationsPort:
    """The bound implementation, imported once from ``settings.THREATS_MITIGATIONS_PORT``."""
    port: MitigationsPort = import_string(settings.THREATS_MITIGATIONS_PORT)()
    return port
