"""Authorization matrix of API v1: every route x method x persona x authentication.

The routes come from the URL resolver, not from a list kept here, so an endpoint added later is
tested automatically, and fails until ``RULES`` says who may call it. For each method a route
allows, the personas owner (admin), editor, viewer, risk owner, outsider (admin of another team)
and anonymous call it with a session and with a token (read-write where the role may hold one;
a viewer's token is read-only), and once more with a read-only token, which is refused on every
write. Each call runs in a savepoint that is rolled back, so every persona meets the same world.

Outsiders get 404 for anything under another team's system (exactly as for a missing one) and
lists without the other team's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from tests.api.conftest import client_for
from tests.authz_world import APPROVERS, EDIT, MEMBERS, PERSONAS, World, in_a_month, url_patterns

pytestmark = pytest.mark.django_db

WRITES = frozenset({"post", "put", "patch", "delete"})
API_PREFIX = "api/(?P<version>v1)/"


# --- the world every call meets (tests/authz_world.py) -------------------------------------------


@pytest.fixture
def world(request: pytest.FixtureRequest) -> World:
    return World(request)


# --- expectations ---------------------------------------------------------------------------------


def on_system(w: World) -> dict[str, Any]:
    return {"slug": w.system.slug}


def element(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"slug": w.system.slug, "pk": getattr(w.elements, name).pk}


def plan_in(state: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"slug": w.system.slug, "pk": w.plan(state).pk}


def no_team_a_rows(body: Any) -> bool:
    return "acme" not in str(body) and "inference-platform" not in str(body)


@dataclass(frozen=True)
class Rule:
    """Who gets what from one route and method.

    ``allowed`` personas get ``ok`` (one status or a set); other members get ``denied``; the
    outsider gets ``outsider`` (None: like any persona by ``allowed``); read-only tokens get
    ``read_only`` on writes; anonymous callers get ``anonymous``. ``outsider_body`` checks an
    outsider's successful answer (lists: nothing of team A).
    """

    allowed: tuple[str, ...]
    ok: int | frozenset[int] = 200
    kwargs: Callable[[World], dict[str, Any]] = on_system
    body: Callable[[World], Any] | None = None
    denied: int = 403
    outsider: int | None = 404
    anonymous: int = 401
    read_only: int = 403
    outsider_body: Callable[[Any], bool] | None = None
    query: str = ""
    headers: Callable[[World], dict[str, str]] | None = None


READ = Rule(MEMBERS)
EVERYONE = Rule(PERSONAS, kwargs=lambda w: {}, outsider=None, anonymous=200, read_only=200)
ANY_USER = Rule(PERSONAS, kwargs=lambda w: {}, outsider=None)
OWN_LIST = Rule(PERSONAS, kwargs=lambda w: {}, outsider=None, outsider_body=no_team_a_rows)


def model_write(ok: int, kwargs: Callable[[World], dict[str, Any]], body: Callable[[World], Any] | None) -> Rule:
    return Rule(EDIT, ok=ok, kwargs=kwargs, body=body)


def elements_rules(kind: str, noun: str, create: Callable[[World], Any]) -> dict[str, dict[str, Rule]]:
    return {
        f"system-{noun}-list": {"get": READ, "post": model_write(201, on_system, create)},
        f"system-{noun}-detail": {
            "get": Rule(MEMBERS, kwargs=element(kind)),
            "patch": model_write(200, element(kind), lambda w: {"description": "matrix"}),
            "delete": model_write(204, element(kind), None),
        },
    }


def transition(state: str, allowed: tuple[str, ...], body: dict[str, Any] | None = None) -> dict[str, Rule]:
    def with_revision(w: World) -> dict[str, Any]:
        # Decisions name the revision they reviewed (issue 13.2); the other actions may.
        return {**(body or {}), "revision": w.plan(state).revision}

    return {"post": Rule(allowed, kwargs=plan_in(state), body=with_revision)}


def on_finding(w: World) -> dict[str, Any]:
    return {"slug": w.system.slug, "pk": w.findings[0].pk}


def on_finding_comment(w: World) -> dict[str, Any]:
    """A comment by ``pete`` (not a persona): only the team admin may remove it."""
    return {**on_finding(w), "comment_id": w.finding_comment.pk}


RULES: dict[str, dict[str, Rule]] = {
    # Open documentation.
    "api-schema": {"get": replace(EVERYONE, query="?format=json")},  # JSON renders faster than YAML
    "api-docs": {"get": EVERYONE},
    "api-root": {"get": ANY_USER},
    # Teams and systems.
    "team-list": {"get": OWN_LIST},
    "team-detail": {"get": Rule(MEMBERS, kwargs=lambda w: {"slug": "acme"})},
    "system-list": {
        "get": OWN_LIST,
        # Another team is not a choice: the outsider's "acme" is an unknown team (400).
        "post": Rule(
            EDIT, ok=201, kwargs=lambda w: {}, body=lambda w: {"name": "Matrix", "team": "acme"}, outsider=400
        ),
    },
    "system-detail": {
        "get": READ,
        "patch": model_write(200, on_system, lambda w: {"description": "matrix"}),
        "delete": model_write(204, on_system, None),
    },
    **elements_rules("zone", "zone", lambda w: {"name": "Matrix zone"}),
    **elements_rules("asset", "asset", lambda w: {"name": "Matrix asset", "kind": "gpu_host"}),
    **elements_rules(
        "flow",
        "flow",
        lambda w: {"name": "Matrix flow", "source": w.elements.other_asset.pk, "target": w.elements.asset.pk},
    ),
    **elements_rules("attacker", "attacker", lambda w: {"name": "Matrix attacker"}),
    # Inventory sync (workbench.api.inventory).
    "inventory-sync": {
        "post": model_write(
            200,
            on_system,
            lambda w: {"source": "cmdb", "assets": [{"external_id": "m-1", "name": "Matrix host", "kind": "gpu_host"}]},
        )
    },
    "inventory-sync-job": {"get": Rule(MEMBERS, kwargs=lambda w: {"slug": w.system.slug, "job_id": w.job.pk})},
    # Threats: library (global, any signed-in user), findings, risk, paths, diagrams, advice.
    "library-threat-list": {"get": ANY_USER},
    "library-threat-detail": {
        "get": Rule(PERSONAS, kwargs=lambda w: {"code": w.library_code("T-EXTRACT-API")}, outsider=None)
    },
    "library-control-list": {"get": ANY_USER},
    "library-control-detail": {
        "get": Rule(PERSONAS, kwargs=lambda w: {"code": w.library_code("M-RATE-QUOTA")}, outsider=None)
    },
    "system-findings": {"get": READ},
    "system-finding-detail": {"get": Rule(MEMBERS, kwargs=on_finding)},
    "system-finding-comments": {
        "get": Rule(MEMBERS, kwargs=on_finding),
        "post": Rule(("owner", "editor", "risk_owner"), ok=201, kwargs=on_finding, body=lambda w: {"body": "Matrix"}),
    },
    "system-finding-comment-detail": {"delete": Rule(("owner",), ok=204, kwargs=on_finding_comment)},
    "system-risk": {"get": READ},
    "system-recompute": {"post": Rule(("owner", "editor", "risk_owner"), ok=202, body=lambda w: {})},
    "system-attack-paths": {"get": READ},
    "system-diagram-svg": {
        "get": Rule(MEMBERS, ok=frozenset({200, 503}), kwargs=lambda w: {"slug": w.system.slug, "kind": "dfd"})
    },
    "system-advice": {"get": READ},
    # Mitigations: plans and their workflow, acceptances, the audit trail.
    "system-plan-list": {
        "get": READ,
        "post": Rule(EDIT, ok=201, body=lambda w: {"control": "M-RATE-QUOTA", "findings": [w.findings[0].pk]}),
    },
    "system-plan-detail": {
        "get": Rule(MEMBERS, kwargs=plan_in("proposed")),
        "patch": Rule(EDIT, kwargs=plan_in("proposed"), body=lambda w: {"description": "matrix"}),
        "delete": Rule(EDIT, ok=204, kwargs=plan_in("proposed")),
    },
    "system-plan-approve": transition("proposed", APPROVERS),
    "system-plan-reject": transition("proposed", APPROVERS, {"comment": "Not worth it."}),
    "system-plan-implement": transition("approved", EDIT),
    "system-plan-verify": transition("implemented", APPROVERS, {"evidence_links": ["https://wiki.example.test/x"]}),
    "system-plan-withdraw": transition("proposed", EDIT),
    "system-plan-comments": {
        "get": Rule(MEMBERS, kwargs=plan_in("proposed")),
        "post": Rule(
            ("owner", "editor", "risk_owner"), ok=201, kwargs=plan_in("proposed"), body=lambda w: {"body": "Matrix"}
        ),
    },
    "system-acceptance-list": {
        "get": READ,
        "post": Rule(
            APPROVERS,
            ok=201,
            body=lambda w: {
                "finding": w.findings[1].pk,
                "justification": "Matrix acceptance, reviewed.",
                "expires_on": in_a_month().isoformat(),
            },
        ),
    },
    "system-acceptance-detail": {
        "get": Rule(MEMBERS, kwargs=lambda w: {"slug": w.system.slug, "pk": w.acceptance.pk}),
    },
    "system-acceptance-revoke": {
        "post": Rule(
            APPROVERS,
            kwargs=lambda w: {"slug": w.system.slug, "pk": w.acceptance.pk},
            body=lambda w: {"reason": "matrix"},
        )
    },
    "system-audit": {"get": READ},
    # The diagram editor (workbench.api.editor, workbench.api.batch).
    "system-graph": {"get": READ},
    "system-version": {"get": READ},
    "system-batch": {
        "post": Rule(
            EDIT,
            body=lambda w: {"operations": [{"op": "create", "kind": "zone", "data": {"name": "Batch zone"}}]},
            headers=lambda w: {"HTTP_IF_MATCH": f'"v{w.system.version}"'},
        )
    },
    "system-layout": {
        "put": Rule(EDIT, body=lambda w: {"positions": [{"asset": str(w.elements.asset.pk), "x": 10.0, "y": 20.0}]})
    },
    # Anything else under /api/v1/ is a JSON 404 for everyone.
    "api-unknown": {
        method: Rule((), denied=404, kwargs=lambda w: {}, outsider=404, anonymous=404, read_only=404)
        for method in ("get", "post", "put", "patch", "delete")
    },
}
UNKNOWN_PATH = "/api/v1/no-such-endpoint/"


# --- routes from the resolver ---------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    methods: tuple[str, ...]


def _methods(callback: Any) -> tuple[str, ...]:
    actions = getattr(callback, "actions", None)
    if actions:
        return tuple(sorted(m for m in actions if m not in {"head", "options"}))
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    allowed = getattr(view, "http_method_names", ())
    return tuple(sorted(m for m in ("get", "post", "put", "patch", "delete") if m in allowed and hasattr(view, m)))


def api_routes() -> list[Route]:
    """Every route under /api/v1/, with the methods its view answers (HEAD and OPTIONS aside)."""
    routes: dict[str, Route] = {}
    for _, regex, entry in url_patterns():
        if not regex.lstrip("^").startswith(API_PREFIX):
            continue
        route = Route(entry.name or regex, regex, _methods(entry.callback))
        if route.name in routes:  # the same name twice would make the table ambiguous
            raise AssertionError(f"two API routes are named {route.name!r}")
        routes[route.name] = route
    return sorted(routes.values(), key=lambda r: r.name)


ROUTES = api_routes()
CASES = [(route.name, method) for route in ROUTES for method in route.methods]


def test_the_matrix_covers_every_route_and_method() -> None:
    found = {(route.name, method) for route in ROUTES for method in route.methods}
    expected = {(name, method) for name, methods in RULES.items() for method in methods}

    assert found - expected == set(), "API routes without an expectation in RULES: add them"
    assert expected - found == set(), "RULES names routes or methods that no longer exist: remove them"
    assert len(found) >= 60


# --- the matrix -----------------------------------------------------------------------------------


def expected_status(rule: Rule, method: str, persona: str | None, auth: str) -> int | frozenset[int]:
    if persona is None:
        return rule.anonymous
    read_only_token = auth == "read_only_token" or (auth == "token" and persona == "viewer")
    if method in WRITES and read_only_token:
        return rule.read_only
    if persona == "outsider" and rule.outsider is not None:
        return rule.outsider
    return rule.ok if persona in rule.allowed else rule.denied


def call(client: Any, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    if method in {"get", "delete"}:
        return getattr(client, method)(url, **headers)
    return getattr(client, method)(url, body if body is not None else {}, format="json", **headers)


@pytest.mark.parametrize(("name", "method"), CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_route_answers_each_persona_as_the_rules_say(world: World, request, name: str, method: str) -> None:
    assert name in RULES and method in RULES[name], f"no expectation for {method.upper()} {name}: add it to RULES"
    rule = RULES[name][method]
    url = UNKNOWN_PATH if name == "api-unknown" else reverse(name, kwargs={"version": "v1", **rule.kwargs(world)})
    url += rule.query
    body = rule.body(world) if rule.body else None
    headers = rule.headers(world) if rule.headers else {}
    combos = [(None, "none")] + [(p, auth) for p in PERSONAS for auth in ("session", "token", "read_only_token")]

    client = APIClient()
    wrong = []
    for persona, auth in combos:
        savepoint = transaction.savepoint()
        try:
            user = request.getfixturevalue(persona) if persona else None
            response = call(client_for(user, None if persona is None else auth, client), method, url, body, headers)
            want = expected_status(rule, method, persona, auth)
            ok = response.status_code in want if isinstance(want, frozenset) else response.status_code == want
            if ok and persona == "outsider" and rule.outsider_body and response.status_code == 200:
                ok = rule.outsider_body(response.json())
            if not ok:
                wrong.append(f"{persona or 'anonymous'}/{auth}: got {response.status_code}, want {want}")
        finally:
            transaction.savepoint_rollback(savepoint)

    assert not wrong, f"{method.upper()} {url}:\n  " + "\n  ".join(wrong)
