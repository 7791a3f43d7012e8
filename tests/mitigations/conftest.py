"""Fixtures of the mitigation tests: a priced system with a finding to plan for, a second risk
owner and admin (for four-eyes and race tests), and plans in every workflow state."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mitigations import workflow
from mitigations.models import MitigationPlan
from mitigations.services.obsolete import plans_retire_obsolete
from mitigations.services.plans import plan_create
from mitigations.services.transitions import plan_transition
from tests.factories import AssetFactory, MembershipFactory, UserFactory
from tests.threats.conftest import exposed_llm  # noqa: F401 - shared fixture
from threats.models import Control, Finding, LibraryState, ThreatControl, ThreatTemplate
from threats.models.atlas import AtlasCaseStudy, AtlasMitigation, AtlasRelease, AtlasTactic, AtlasTechnique
from threats.services.library import library_seed
from threats.services.recompute import system_recompute
from workbench.choices import Role
from workbench.models import System, Team
from workbench.services.elements import asset_delete

EVIDENCE = ["https://wiki.example.test/controls/rate-quota"]


@pytest.fixture(autouse=True)
def _fewer_draws(settings: Any) -> None:
    """Recomputes here compare views of one seeded run; 1,000 draws keep them quick."""
    settings.RISK_DRAWS = 1000


_LIBRARY_ROWS: dict[type[Any], list[dict[str, Any]]] = {}
# Everything ``library_seed`` writes, parents before children: the ATLAS names it ships, their
# links (auto-created through tables), then the threat and control library.
_ATLAS_MODELS = (AtlasTactic, AtlasTechnique, AtlasMitigation, AtlasCaseStudy, AtlasRelease)
_LIBRARY_MODELS = (
    *_ATLAS_MODELS,
    *(f.remote_field.through for m in _ATLAS_MODELS for f in m._meta.many_to_many),
    Control,
    ThreatTemplate,
    ThreatControl,
    LibraryState,
)


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
# The shortest path from proposed to each state ("obsolete" is set by the system, not an action:
# ``plan_in`` deletes the plan's only asset for it).
PATH_TO = {
    workflow.PROPOSED: [],
    workflow.APPROVED: [workflow.APPROVE],
    workflow.REJECTED: [workflow.REJECT],
    workflow.IMPLEMENTED: [workflow.APPROVE, workflow.IMPLEMENT],
    workflow.VERIFIED: [workflow.APPROVE, workflow.IMPLEMENT, workflow.VERIFY],
    workflow.WITHDRAWN: [workflow.WITHDRAW],
    workflow.OBSOLETE: [workflow.APPROVE],
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
        scratch = None
        if state == workflow.OBSOLETE:
            system = request.getfixturevalue("priced")
            scratch = AssetFactory(system=system, name="Scratch store", zone=system.zones.first())
        plan = propose() if scratch is None else propose(findings=[], assets=[scratch])
        for action in PATH_TO[state]:
            actor = request.getfixturevalue(ACTOR_FOR[action])
            plan = plan_transition(actor=actor, plan=plan, action=action, **transition_kwargs(action))
        if scratch is not None:
            asset_delete(actor=request.getfixturevalue("editor"), asset=scratch)
            assert plans_retire_obsolete(system_id=plan.system_id) == [plan.pk]
            plan = MitigationPlan.objects.get(pk=plan.pk)
        assert plan.status == state
        return plan

    return _plan_in


# --- webhooks: name resolution, local receivers, where deliveries run --------------------------

PUBLIC_ADDRESS = "93.184.215.14"  # a public unicast address; no test connects to it


class FakeDNS(dict[str, list[str]]):
    """Names the tests resolve themselves (name -> addresses), and how often each was looked up."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, int] = {}


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    """``fake_dns[name] = [addresses]`` answers those names (and only those) without DNS.

    Resolution is the outside world: the tests choose what a name resolves to, as a DNS server
    an attacker controls would. ``hooks.example.test`` is a public address from the start.
    """
    real = socket.getaddrinfo
    answers = FakeDNS()

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = str(host).lower().rstrip(".")
        if name not in answers:
            return real(host, port, *args, **kwargs)
        answers.calls[name] = answers.calls.get(name, 0) + 1
        family = {4: socket.AF_INET, 6: socket.AF_INET6}
        return [
            (family[ipaddress.ip_address(a).version], socket.SOCK_STREAM, 6, "", (a, port or 0)) for a in answers[name]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    answers["hooks.example.test"] = [PUBLIC_ADDRESS]
    return answers


@pytest.fixture
def local_receivers(settings: Any) -> None:
    """What an operator sets to deliver to a receiver on this machine: 127.0.0.1 on the
    allow-list and plain http allowed (the test receivers speak http)."""
    settings.WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_REQUIRE_HTTPS = False


@pytest.fixture
def in_process_tasks() -> Iterator[None]:
    """Celery runs tasks in-process here even where a broker is configured (CI): the embedded mode."""
    from workbench.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


@pytest.fixture
def inline_background(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run what the embedded mode hands to ``workbench.background`` at once, in this thread.

    Tests of what a delivery does use it (their rows live in the test's open transaction, which
    a background thread cannot see); ``test_webhook_background`` runs the real threads.
    """
    from workbench import background

    def run_now(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> bool:
        fn(*args, **kwargs)
        return True

    monkeypatch.setattr(background.pool, "submit", run_now)  # the one pool, however it is reached
