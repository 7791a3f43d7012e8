"""Authorization matrix of the pages: every page route of every app x GET/POST x persona.

The routes come from the URL resolver (every pattern in the ``workbench``, ``threats`` and
``mitigations`` namespaces), not from a list kept here, so a page added later fails until
``PAGES`` says who may use it, as the API matrix does (tests/api/test_authz_matrix.py). Pages are
HTML forms, so each route is called with GET and with POST by anonymous, owner (admin), editor,
viewer, risk owner and outsider (admin of another team); each call runs in a savepoint that is
rolled back, so every persona meets the same world (tests/authz_world.py).

Anonymous callers go to the login page. Another team's object is a 404, exactly like a missing
one; a visible page the role may not use is a 403; a method a view does not take is a 405. A
refused call writes nothing, and an outsider's 200 shows nothing of team A.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from mitigations.models import Approval, MitigationPlan, PlanComment, RiskAcceptance, TeamWebhook
from tests.authz_world import APPROVERS, EDIT, MEMBERS, PERSONAS, World, in_a_month, url_patterns
from tests.conftest import db_state
from threats.models import Finding, FindingComment

pytestmark = pytest.mark.django_db

APPS = ("workbench", "threats", "mitigations")
METHODS = ("get", "post")
REFUSED = frozenset({400, 403, 404, 405})


@pytest.fixture
def world(request: pytest.FixtureRequest) -> World:
    return World(request)


# --- expectations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """What one method of one page answers each signed-in persona.

    ``allowed`` personas get ``ok`` (one status or a set); other members get ``denied``; the
    outsider gets ``outsider`` (None: like any persona, by ``allowed``). ``body`` is the POST
    body an allowed persona's write succeeds with.
    """

    allowed: tuple[str, ...]
    ok: int | frozenset[int] = 200
    denied: int = 403
    outsider: int | None = 404
    body: Callable[[World], dict[str, Any]] | None = None
    shows_form: bool = False  # an allowed persona's 200 carries a POST form


@dataclass(frozen=True)
class Page:
    """A page route's GET and POST, with the URL arguments that reach team A's objects."""

    get: Rule
    post: Rule
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {"slug": w.system.slug}
    label: str = ""  # which case, for a route tested with several kwargs (element kinds, plan actions)


READ = Rule(MEMBERS)  # team A's members read; the outsider gets a 404
ANY_USER = Rule(PERSONAS, outsider=None)  # every signed-in user (scoped to their own teams, or global)
NO_SUCH_METHOD = Rule(PERSONAS, ok=405, outsider=None)  # require_GET / require_POST answer before the view


def write(allowed: tuple[str, ...], body: Callable[[World], dict[str, Any]] | None = None, **kw: Any) -> Rule:
    """A POST that succeeds (302 to the result) for ``allowed``."""
    return Rule(allowed, ok=302, body=body or (lambda w: {}), **kw)


def form(allowed: tuple[str, ...], **kw: Any) -> Rule:
    """The GET of a write page: the form for ``allowed``."""
    return Rule(allowed, shows_form=True, **kw)


# Read pages take GET (and HEAD) only: a POST is a 405 (require_safe / require_GET), never the page.
def get_only(rule: Rule = READ, **kw: Any) -> Page:
    return Page(get=rule, post=NO_SUCH_METHOD, **kw)


def post_only(rule: Rule, **kw: Any) -> Page:
    return Page(get=NO_SUCH_METHOD, post=rule, **kw)


KINDS = {"zones": "zone", "assets": "asset", "flows": "flow", "attackers": "attacker"}


def element_pages(action: str) -> tuple[Page, ...]:
    def kwargs(kind: str) -> Callable[[World], dict[str, Any]]:
        if action == "new":
            return lambda w: {"slug": w.system.slug, "kind": kind}
        return lambda w: {"slug": w.system.slug, "kind": kind, "pk": getattr(w.elements, KINDS[kind]).pk}

    def body(kind: str) -> Callable[[World], dict[str, Any]]:
        if action == "delete":
            return lambda w: {}
        return lambda w: w.request.getfixturevalue("form_data")(kind, w.elements)

    return tuple(Page(form(EDIT), write(EDIT, body(kind)), kwargs(kind), kind) for kind in KINDS)


def on_plan(state: str, **extra: Any) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"slug": w.system.slug, "pk": w.plan(state).pk, **extra}


def plan_action(action: str, state: str, allowed: tuple[str, ...], **body: Any) -> Page:
    def with_revision(w: World) -> dict[str, Any]:
        return {**body, "revision": w.plan(state).revision}  # decisions name the revision reviewed

    return post_only(write(allowed, with_revision), kwargs=on_plan(state, action=action), label=action)


def on_finding(w: World) -> dict[str, Any]:
    return {"slug": w.system.slug, "pk": w.findings[0].pk}


def system_form(w: World) -> dict[str, Any]:
    return w.request.getfixturevalue("form_data")("system", w.elements)


COMMENTERS = ("owner", "editor", "risk_owner")

PAGES: dict[str, Page | tuple[Page, ...]] = {
    # workbench: the dashboard, tokens, systems and their elements.
    "workbench:dashboard": get_only(ANY_USER, kwargs=lambda w: {}),
    "workbench:tokens": Page(
        get=ANY_USER,
        # Another team is not a choice: the outsider's form is a 400. A read token is every member's right.
        post=Rule(MEMBERS, outsider=400, body=lambda w: {"name": "Mine", "team": w.system.team.pk, "access": "read"}),
        kwargs=lambda w: {},
    ),
    # pete's token: the team admin may revoke it; nobody else sees it (404, like a missing token).
    "workbench:token_revoke": post_only(write(("owner",), denied=404), kwargs=lambda w: {"pk": w.token.pk}),
    "workbench:system_new": Page(
        get=ANY_USER,
        # The team is a choice only where the user edits: read-only roles and the outsider get a 400.
        post=write(EDIT, lambda w: {**system_form(w), "team": w.system.team.pk}, denied=400, outsider=400),
        kwargs=lambda w: {},
    ),
    "workbench:system_detail": get_only(),
    "workbench:activity": get_only(),
    "workbench:system_edit": Page(form(EDIT), write(EDIT, system_form)),
    "workbench:system_delete": Page(form(EDIT), write(EDIT)),
    "workbench:element_new": element_pages("new"),
    "workbench:element_edit": element_pages("edit"),
    "workbench:element_delete": element_pages("delete"),
    # threats: the library (global), findings and their comments, risk, advice, diagrams.
    "threats:threat_list": get_only(ANY_USER, kwargs=lambda w: {}),
    "threats:threat_detail": get_only(ANY_USER, kwargs=lambda w: {"code": w.library_code("T-EXTRACT-API")}),
    "threats:control_list": get_only(ANY_USER, kwargs=lambda w: {}),
    "threats:control_detail": get_only(ANY_USER, kwargs=lambda w: {"code": w.library_code("M-RATE-QUOTA")}),
    "threats:finding_list": get_only(),
    "threats:finding_detail": get_only(kwargs=on_finding),
    "threats:finding_comment": post_only(write(COMMENTERS, lambda w: {"body": "Matrix"}), kwargs=on_finding),
    # A comment by pete: its author or the team admin removes it.
    "threats:finding_comment_delete": post_only(
        write(("owner",)), kwargs=lambda w: {**on_finding(w), "comment_id": w.finding_comment.pk}
    ),
    "threats:risk_panel": get_only(),
    "threats:advice": get_only(),
    "threats:advice_summary": get_only(),
    "threats:diagrams_panel": get_only(),
    # Rendered by a worker: 503 (with Retry-After) until it has, then the file.
    **{
        f"threats:diagram_{ext}": get_only(
            Rule(MEMBERS, ok=frozenset({200, 503})), kwargs=lambda w: {"slug": w.system.slug, "kind": "dfd"}
        )
        for ext in ("svg", "png")
    },
    # mitigations: the inbox, plans and their workflow, acceptances, the audit trail, the webhook.
    "mitigations:inbox": get_only(ANY_USER, kwargs=lambda w: {}),
    # Only the team admin configures the webhook; "remove" needs no reachable endpoint.
    "mitigations:webhook_edit": Page(
        form(("owner",)), write(("owner",), lambda w: {"remove": "1"}), kwargs=lambda w: {"team_slug": "acme"}
    ),
    "mitigations:plan_list": get_only(),
    "mitigations:plan_new": Page(
        form(EDIT), write(EDIT, lambda w: {"control": "M-RATE-QUOTA", "findings": [w.findings[0].pk]})
    ),
    "mitigations:plan_detail": get_only(kwargs=on_plan("proposed")),
    "mitigations:plan_edit": Page(
        form(EDIT),
        write(EDIT, lambda w: {"description": "Matrix", "cost_one_off": "1", "cost_yearly": "1"}),
        kwargs=on_plan("proposed"),
    ),
    "mitigations:plan_delete": Page(form(EDIT), write(EDIT), kwargs=on_plan("proposed")),
    "mitigations:plan_comment": post_only(write(COMMENTERS, lambda w: {"body": "Matrix"}), kwargs=on_plan("proposed")),
    "mitigations:plan_act": (
        plan_action("approve", "proposed", APPROVERS),
        plan_action("reject", "proposed", APPROVERS, comment="Not worth it."),
        plan_action("implement", "approved", EDIT),
        plan_action("verify", "implemented", APPROVERS, evidence_links="https://wiki.example.test/x"),
        plan_action("withdraw", "proposed", EDIT),
    ),
    "mitigations:acceptance_list": get_only(),
    "mitigations:acceptance_new": Page(
        form(APPROVERS),
        write(APPROVERS, lambda w: {"justification": "Matrix, reviewed.", "expires_on": in_a_month().isoformat()}),
        kwargs=lambda w: {"slug": w.system.slug, "finding_id": w.findings[1].pk},
    ),
    "mitigations:acceptance_revoke": post_only(
        write(APPROVERS, lambda w: {"reason": "matrix"}),
        kwargs=lambda w: {"slug": w.system.slug, "pk": w.acceptance.pk},
    ),
    "mitigations:audit_list": get_only(),
}


# --- routes from the resolver ---------------------------------------------------------------------


def page_routes() -> set[str]:
    """The namespaced name of every page route of the apps (each must have a name to be reversed)."""
    names: set[str] = set()
    for namespace, regex, entry in url_patterns():
        if namespace in APPS:
            assert entry.name, f"page route {regex!r} has no name"
            names.add(f"{namespace}:{entry.name}")
    return names


def cases() -> list[tuple[str, Page]]:
    out = []
    for name, pages in sorted(PAGES.items()):
        out.extend((name, page) for page in (pages if isinstance(pages, tuple) else (pages,)))
    return out


CASES = cases()


def test_the_matrix_covers_every_page_route() -> None:
    found = page_routes()

    assert found - set(PAGES) == set(), "page routes without an expectation in PAGES: add them"
    assert set(PAGES) - found == set(), "PAGES names routes that no longer exist: remove them"
    assert len(found) >= 38


# --- the matrix -----------------------------------------------------------------------------------


def expected_status(rule: Rule, persona: str) -> int | frozenset[int]:
    if persona == "outsider" and rule.outsider is not None:
        return rule.outsider
    return rule.ok if persona in rule.allowed else rule.denied


def page_state(world: World) -> dict[str, Any]:
    """Everything a refused page call must leave alone: the modelling rows, audit heads and version
    (``db_state``), and the rows and states of the findings, plans, acceptances and comments."""
    state = db_state(world.system)
    for model in (MitigationPlan, Approval, PlanComment, RiskAcceptance, FindingComment, TeamWebhook):
        state[model.__name__] = model.objects.count()
    state["plan_states"] = sorted(MitigationPlan.objects.values_list("pk", "status", "revision"))
    state["finding_states"] = sorted(Finding.objects.values_list("pk", "status"))
    return state


def check_answer(response: Any, rule: Rule, persona: str | None, world: World) -> str:
    """What is wrong with one answer ("" when nothing)."""
    login = reverse("login")
    if persona is None:
        if response.status_code == 302 and response.url.startswith(login) and "next=" in response.url:
            return ""
        return f"got {response.status_code} {response.get('Location', '')}, want the login page"
    want = expected_status(rule, persona)
    ok = response.status_code in want if isinstance(want, frozenset) else response.status_code == want
    if not ok:
        return f"got {response.status_code}, want {want}"
    if rule.shows_form and response.status_code == 200 and b'method="post"' not in response.content:
        return "no form on the page"
    if response.status_code == 302 and response.url.startswith(login):
        return "sent to the login page"
    if persona == "outsider" and response.status_code == 200:
        text = response.content.decode(errors="replace")
        if world.system.name in text or world.system.team.name in text:
            return "the outsider's page shows team A"
    return ""


@pytest.mark.parametrize(("name", "page"), CASES, ids=[f"{n}-{p.label}" if p.label else n for n, p in CASES])
def test_page_answers_each_persona_as_the_matrix_says(world: World, request, name: str, page: Page) -> None:
    url = reverse(name, kwargs=page.kwargs(world))
    wrong = []
    for method in METHODS:
        rule: Rule = getattr(page, method)
        body = rule.body(world) if method == "post" and rule.body else {}
        for persona in (None, *PERSONAS):
            savepoint = transaction.savepoint()
            try:
                client = Client()
                if persona is not None:
                    client.force_login(request.getfixturevalue(persona))
                before = page_state(world)
                response = client.get(url) if method == "get" else client.post(url, body)
                problem = check_answer(response, rule, persona, world)
                refused = persona is None or response.status_code in REFUSED
                if not problem and refused and page_state(world) != before:
                    problem = f"refused with {response.status_code} but wrote"
                if problem:
                    wrong.append(f"{method.upper()} as {persona or 'anonymous'}: {problem}")
            finally:
                transaction.savepoint_rollback(savepoint)

    assert not wrong, f"{url}:\n  " + "\n  ".join(wrong)


def test_a_route_missing_from_the_matrix_fails_the_coverage_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The coverage check is live: drop one route from PAGES and it names that route."""
    monkeypatch.delitem(PAGES, "workbench:activity")

    with pytest.raises(AssertionError, match="page routes without an expectation"):
        test_the_matrix_covers_every_page_route()
