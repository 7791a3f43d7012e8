"""Fixtures of the mitigation tests: a priced system with a finding to plan for, a second risk
owner and admin (for four-eyes and race tests), and plans in every workflow state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mitigations import workflow
from mitigations.models import Control, MitigationPlan, ThreatControl
from mitigations.services.plans import plan_create
from mitigations.services.transitions import plan_transition
from tests.factories import MembershipFactory, UserFactory
from tests.threats.conftest import exposed_llm  # noqa: F401 - shared fixture
from threats.models import Finding, LibraryState, ThreatTemplate
from threats.services.library import library_seed
from threats.services.recompute import system_recompute
from workbench.choices import Role
from workbench.models import System, Team

EVIDENCE = ["https://wiki.example.test/controls/rate-quota"]


@pytest.fixture(autouse=True)
def _fewer_draws(settings: Any) -> None:
    """Recomputes here compare views of one seeded run; 1,000 draws keep them quick."""
    settings.RISK_DRAWS = 1000


_LIBRARY_ROWS: dict[type[Any], list[dict[str, Any]]] = {}
_LIBRARY_MODELS = (Control, ThreatTemplate, ThreatControl, LibraryState)


@pytest.fixture
def library(db: None) -> None:
    """The seeded library. The first test seeds it with ``library_seed`` (YAML parsing and
    validation take most of a test's setup); later tests insert the very same rows in bulk."""
    if not _LIBRARY_ROWS:
        library_seed()
        for model in _LIBRARY_MODELS:
            _LIBRARY_ROWS[model] = list(model.objects.values())
        return
    for model in _LIBRARY_MODELS:
        model.objects.bulk_create([model(**row) for row in _LIBRARY_ROWS[model]])


@pytest.fixture
def risk_owner_2(team_a: Team) -> Any:
    user = UserFactory(username="rosa")
    MembershipFactory(team=team_a, user=user, role=Role.RISK_OWNER)
    return user


@pytest.fixture
def admin_2(team_a: Team) -> Any:
    user = UserFactory(username="adam")
    MembershipFactory(team=team_a, user=user, role=Role.ADMIN)
    return user


@pytest.fixture
def priced(exposed_llm: System) -> System:  # noqa: F811 - uses the imported fixture
    """The exposed LLM endpoint with findings and risk computed for its current version."""
    system_recompute(system_id=exposed_llm.pk)
    exposed_llm.refresh_from_db()
    return exposed_llm


@pytest.fixture
def extraction(priced: System) -> Finding:
    return Finding.objects.get(system=priced, template__code="T-EXTRACT-API")


@pytest.fixture
def rate_quota(library: None) -> Control:
    return Control.objects.get(code="M-RATE-QUOTA")


@pytest.fixture
def propose(editor: Any, priced: System, extraction: Finding, rate_quota: Control) -> Callable[..., MitigationPlan]:
    """``propose(**overrides)``: the editor proposes M-RATE-QUOTA for the extraction finding."""

    def _propose(**overrides: Any) -> MitigationPlan:
        kwargs: dict[str, Any] = {"actor": editor, "system": priced, "control": rate_quota, "findings": [extraction]}
        kwargs.update(overrides)
        return plan_create(**kwargs)

    return _propose


# The actor that may take each action (never the proposer, who is the editor).
ACTOR_FOR = {
    workflow.APPROVE: "risk_owner",
    workflow.REJECT: "risk_owner",
    workflow.IMPLEMENT: "editor",
    workflow.VERIFY: "risk_owner_2",
    workflow.WITHDRAW: "editor",
}
# The shortest path from proposed to each state.
PATH_TO = {
    workflow.PROPOSED: [],
    workflow.APPROVED: [workflow.APPROVE],
    workflow.REJECTED: [workflow.REJECT],
    workflow.IMPLEMENTED: [workflow.APPROVE, workflow.IMPLEMENT],
    workflow.VERIFIED: [workflow.APPROVE, workflow.IMPLEMENT, workflow.VERIFY],
    workflow.WITHDRAWN: [workflow.WITHDRAW],
}


def transition_kwargs(action: str) -> dict[str, Any]:
    if action == workflow.REJECT:
        return {"comment": "Too expensive for the risk it removes."}
    if action == workflow.VERIFY:
        return {"evidence_links": EVIDENCE}
    return {}


@pytest.fixture
def plan_in(
    request: pytest.FixtureRequest, propose: Callable[..., MitigationPlan], risk_owner: Any, risk_owner_2: Any
) -> Callable[[str], MitigationPlan]:
    """``plan_in(state)``: a fresh plan walked through the workflow services to ``state``."""

    def _plan_in(state: str) -> MitigationPlan:
        plan = propose()
        for action in PATH_TO[state]:
            actor = request.getfixturevalue(ACTOR_FOR[action])
            plan = plan_transition(actor=actor, plan=plan, action=action, **transition_kwargs(action))
        assert plan.status == state
        return plan

    return _plan_in
