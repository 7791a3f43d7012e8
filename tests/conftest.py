"""Shared fixtures: two teams, the personas of the authz matrix, systems and a state probe.

Personas (style anchors §5.9): ``owner`` (team A admin), ``editor``, ``viewer`` and
``risk_owner`` of team A, and ``outsider``, who is admin of team B and nothing in team A.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.factories import (
    AssetFactory,
    AttackerProfileFactory,
    DataFlowFactory,
    MembershipFactory,
    TeamFactory,
    TrustZoneFactory,
    UserFactory,
    make_system,
)
from tests.service_plugin import _in_ci
from workbench.choices import AssetKind, Role
from workbench.models import (
    ApiToken,
    Asset,
    AttackerProfile,
    AuditEvent,
    DataFlow,
    Membership,
    System,
    Team,
    TrustZone,
)

PERSONAS = ("owner", "editor", "viewer", "risk_owner", "outsider")


@pytest.fixture(autouse=True)
def _own_throttle_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test counts requests in throttle buckets of its own.

    Buckets live in the cache, which outlives a test's database rollback (and, on Redis, the
    whole run), while user ids repeat between tests; a shared bucket would make a test's outcome
    depend on how many requests earlier tests made. Pages count too (the expensive reads'
    budget, ``workbench.api.throttles``), hence here and not only for the API tests.
    """
    monkeypatch.setattr(SimpleRateThrottle, "cache_format", f"throttle-{uuid.uuid4().hex}-%(scope)s-%(ident)s")


def shared_dir() -> Path:
    """The third-party data folder: ``$SHARED_DIR``, else ``../shared`` beside the checkout.

    Read here and not in settings: the product ships what it needs (ATLAS names, the demo), so only
    the tests look at that folder. Read at each call, so a test can point it elsewhere.
    """
    return Path(os.environ.get("SHARED_DIR", str(Path(__file__).resolve().parents[2] / "shared")))


def find_shared(relative: str) -> Path:
    """A file of the third-party data kept beside the checkout (``shared_dir()``, ``../shared``).

    That folder is not part of the repository, so a fresh clone has none: a test that needs it
    is skipped there with the missing path as the reason, and fails under ``CI=true``, where the
    data is expected (DESIGN.md §8). Tests that only need ATLAS names use the shipped data instead.
    """
    path = shared_dir() / relative
    if path.is_file():
        return path
    reason = f"needs {relative} from the shared data folder, not found at {path} (set SHARED_DIR to its location)"
    if _in_ci():
        pytest.fail(f"{reason}; CI=true: missing shared data is a failure, not a skip", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_path() -> Callable[[str], Path]:
    """``shared_path("reference/ATLAS.yaml")``: the path, or skip (fail under CI=true); see find_shared."""
    return find_shared


def _member(team: Team, role: str, username: str) -> Any:
    user = UserFactory(username=username)
    MembershipFactory(team=team, user=user, role=role)
    return user


@pytest.fixture
def team_a(db: None) -> Team:
    return TeamFactory(name="Acme", slug="acme")


@pytest.fixture
def team_b(db: None) -> Team:
    return TeamFactory(name="Bravo", slug="bravo")


@pytest.fixture
def owner(team_a: Team) -> Any:
    return _member(team_a, Role.ADMIN, "alice")


@pytest.fixture
def editor(team_a: Team) -> Any:
    return _member(team_a, Role.EDITOR, "bob")


@pytest.fixture
def viewer(team_a: Team) -> Any:
    return _member(team_a, Role.VIEWER, "charlie")


@pytest.fixture
def risk_owner(team_a: Team) -> Any:
    return _member(team_a, Role.RISK_OWNER, "rita")


@pytest.fixture
def outsider(team_b: Team) -> Any:
    return _member(team_b, Role.ADMIN, "mallory")


@pytest.fixture
def system(owner: Any, team_a: Team) -> System:
    """Team A's system, created through the service (internet zone and five default attackers)."""
    return make_system(actor=owner, team=team_a, name="Inference platform")


@pytest.fixture
def other_system(outsider: Any, team_b: Team) -> System:
    """Team B's system, owned by the outsider."""
    return make_system(actor=outsider, team=team_b, name="Bravo platform")


@pytest.fixture
def elements(system: System) -> SimpleNamespace:
    """One zone, two assets, a flow between them and an attacker in team A's system (plain rows)."""
    zone = TrustZoneFactory(system=system, name="Corp network")
    store = AssetFactory(system=system, zone=zone, name="Weights bucket", kind=AssetKind.OBJECT_STORE)
    gpu = AssetFactory(system=system, zone=zone, name="GPU host", kind=AssetKind.GPU_HOST)
    flow = DataFlowFactory(system=system, source=gpu, target=store, name="Checkpoint upload")
    attacker = AttackerProfileFactory(system=system, name="Curious contractor")
    return SimpleNamespace(system=system, zone=zone, asset=store, other_asset=gpu, flow=flow, attacker=attacker)


@pytest.fixture
def client_as(request: pytest.FixtureRequest) -> Callable[[str | None], Client]:
    """A page client logged in as the named persona (``None``: anonymous)."""

    def _client(persona: str | None) -> Client:
        client = Client()
        if persona is not None:
            client.force_login(request.getfixturevalue(persona))
        return client

    return _client


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def db_state(system: System | None = None) -> dict[str, Any]:
    """Everything a refused write must leave alone: row counts, audit chain heads and the version."""
    state: dict[str, Any] = {
        model.__name__: model.objects.count()
        for model in (System, TrustZone, Asset, DataFlow, AttackerProfile, AuditEvent, Membership, ApiToken)
    }
    state["audit_heads"] = sorted(Team.objects.values_list("pk", "audit_head"))
    state["flow_carries"] = DataFlow.carries.through.objects.count()
    if system is not None:
        state["version"] = System.objects.values_list("version", flat=True).get(pk=system.pk)
    return state


@pytest.fixture
def nothing_written() -> Callable[..., AbstractContextManager[None]]:
    """``with nothing_written(system): ...`` fails if the block changed rows, audit or version."""

    @contextmanager
    def _check(system: System | None = None) -> Iterator[None]:
        before = db_state(system)
        yield
        assert db_state(system) == before

    return _check


def _form_data(kind: str, world: SimpleNamespace, **overrides: Any) -> dict[str, Any]:
    """A valid POST body for the system form or an element form of ``world.system``."""
    builders: dict[str, Callable[[], dict[str, Any]]] = {
        "system": lambda: {
            "name": "Renamed platform",
            "description": "",
            "risk_appetite": "250000",
            "currency": "EUR",
            "review_due": "",
        },
        "zones": lambda: {"name": "DMZ", "trust_level": "1", "parent": "", "description": ""},
        "assets": lambda: {
            "name": "Feature store",
            "kind": AssetKind.VECTOR_STORE,
            "zone": world.zone.pk,
            "hosted_on": "",
            "description": "",
            "criticality": "3",
            "value_min": "0",
            "value_likely": "10",
            "value_max": "100",
            "authentication": "sso",
            "output_granularity": "",
            "model_class": "",
            "personnel": "",
            "size_gb": "",
            "rate_limit_per_minute": "",
            "tags": "pii, prod",
        },
        "flows": lambda: {
            "name": "Pull weights",
            "source": world.other_asset.pk,
            "target": world.asset.pk,
            "protocol": "s3",
            "authenticated": "on",
            "encrypted": "on",
            "description": "",
        },
        "attackers": lambda: {
            "name": "APT",
            "capability": "OC4",
            "attempts_per_year": "0.2",
            "budget": "1000000",
            "entry_zones": [world.zone.pk],
            "description": "",
        },
    }
    return {**builders[kind](), **overrides}


@pytest.fixture
def form_data() -> Callable[..., dict[str, Any]]:
    """``form_data(kind, elements, **overrides)``: kind is "system", "zones", "assets", "flows" or "attackers"."""
    return _form_data


@pytest.fixture
def held_changes() -> Iterator[list[int]]:
    """Committed changes queue no recompute and retire no plans while the test runs; the list
    gets the id of each system whose change committed (``workbench.background.hold_system_changes``).

    For tests of a write whose after-commit recompute is another test's subject, and for those
    that count what a write would have scheduled.
    """
    from workbench.background import hold_system_changes

    with hold_system_changes() as held:
        yield held
