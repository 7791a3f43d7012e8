"""The advice endpoint: team scoping, a bounded number of queries, and advice on the demo system
that agrees with the stored risk and the model it came from."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator

from tests.factories import AttackerProfileFactory, DataFlowFactory
from tests.threats.cut_check import unseparated
from threats.api import urls as api_urls
from threats.api.advice import AdviceSerializer
from threats.models import Finding, SystemRisk
from threats.services.advice import system_advice
from threats.services.library import library_seed
from threats.services.recompute import system_recompute
from workbench.demo import load_demo
from workbench.models import Asset, System
from workbench.services.elements import asset_save
from workbench.services.tokens import token_issue

pytestmark = pytest.mark.django_db


def url(system: System) -> str:
    return f"/api/v1/systems/{system.slug}/advice/"


@pytest.fixture(autouse=True)
def _reset_anonymous_throttle() -> None:
    cache.delete("throttle_anon_127.0.0.1")  # anonymous requests share one bucket across the run


@pytest.fixture
def demo() -> System:
    """The demo system with its library, findings and risk computed."""
    library_seed()
    system = load_demo(password="demo-password-for-tests")["system"]
    system_recompute(system_id=system.pk)
    system.refresh_from_db()
    return system


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer", "risk_owner"])
def test_every_member_reads_the_advice(api_client: Any, request: Any, persona: str, exposed_llm: System) -> None:
    api_client.force_login(request.getfixturevalue(persona))
    response = api_client.get(url(exposed_llm))
    assert response.status_code == 200
    body = response.json()
    assert body["system"] == exposed_llm.slug and body["view"] == "projected"
    assert body["appetite"] == float(exposed_llm.risk_appetite)


def test_outsider_gets_404_and_anonymous_is_refused(api_client: Any, outsider: Any, exposed_llm: System) -> None:
    assert api_client.get(url(exposed_llm)).status_code in (401, 403)
    api_client.force_login(outsider)
    assert api_client.get(url(exposed_llm)).status_code == 404
    assert api_client.get("/api/v1/systems/no-such-system/advice/").status_code == 404


def test_a_token_sees_only_its_own_teams_advice(
    api_client: Any, viewer: Any, exposed_llm: System, other_system: System
) -> None:
    _, raw = token_issue(user=viewer, team=exposed_llm.team, name="ci")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get(url(exposed_llm)).status_code == 200
    assert api_client.get(url(other_system)).status_code == 404


def test_advice_is_read_only(api_client: Any, owner: Any, exposed_llm: System) -> None:
    api_client.force_login(owner)
    assert api_client.post(url(exposed_llm), {}).status_code == 405
    assert api_client.delete(url(exposed_llm)).status_code == 405


def test_queries_do_not_grow_with_the_system(
    api_client: Any, owner: Any, exposed_llm: System, django_assert_max_num_queries: Any
) -> None:
    api_client.force_login(owner)
    with django_assert_max_num_queries(16) as small:
        api_client.get(url(exposed_llm))
    api = exposed_llm.assets.get(name="Chat API")
    for i in range(12):
        asset = asset_save(actor=owner, system=exposed_llm, name=f"Bucket {i}", kind="object_store", criticality=5)
        DataFlowFactory(system=exposed_llm, source=api, target=asset)
    AttackerProfileFactory(system=exposed_llm, name="Another crew")
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = api_client.get(url(exposed_llm)).json()
    assert body["controls"]["loss_before"] > 0 and body["controls"]["candidates"], "the larger system was priced"


def test_schema_documents_the_advice_endpoint() -> None:
    # Only this route is generated, so the test does not depend on every other endpoint's schema.
    route = next(p for p in api_urls.urlpatterns if getattr(p, "name", "") == "system-advice")
    schema = SchemaGenerator(patterns=[path("api/v1/", include([route]))]).get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/systems/{slug}/advice/"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/Advice")
    components = schema["components"]["schemas"]
    step = components["AdviceStep"]["properties"]
    assert {"key", "kind", "control", "change", "asset_ids", "finding_ids", "loss_before", "loss_after"} <= set(step)
    assert {"steps", "not_worth_it", "remaining_over_appetite"} <= set(components["AdviceControls"]["properties"])
    assert {"choke_points", "cut"} <= set(components["Advice"]["properties"])
    assert {"assets", "unprotected", "annual_cost"} <= set(components["AdviceCut"]["properties"])


def test_demo_advice_steps_lower_the_projected_loss(api_client: Any, demo: System) -> None:
    api_client.force_login(User.objects.get(username="demo-viewer"))
    body = api_client.get(url(demo)).json()
    controls = body["controls"]
    stored = SystemRisk.objects.get(system=demo).totals["projected"]["expected"]
    assert controls["loss_before"] == pytest.approx(stored, rel=1e-5), "advice prices what the recompute stored"
    assert controls["loss_before"] > body["appetite"], "the demo starts over its appetite"
    steps = controls["steps"]
    assert steps, "there is something to buy"
    before = controls["loss_before"]
    for step in steps:
        assert step["loss_before"] == pytest.approx(before) and step["loss_after"] < step["loss_before"]
        assert step["annual_cost"] == pytest.approx(step["yearly_cost"] + step["one_off_cost"] / 3)
        assert step["reduction"] == pytest.approx(step["loss_before"] - step["loss_after"])
        assert step["reduction"] >= step["annual_cost"], "never a step that costs more than it saves"
        before = step["loss_after"]
    assert controls["loss_after"] == pytest.approx(before)
    assert controls["reaches_appetite"] == (controls["loss_after"] <= body["appetite"])
    assert controls["remaining_over_appetite"] == pytest.approx(max(controls["loss_after"] - body["appetite"], 0))
    # suggestions name real rows of this system, so a button can post them
    findings = set(Finding.objects.filter(system=demo).values_list("pk", flat=True))
    assets = set(Asset.objects.filter(system=demo).values_list("pk", flat=True))
    for step in steps:
        assert set(step["finding_ids"]) <= findings
        assert set(step["asset_ids"]) <= assets and (step["scope"] == "system") == (not step["asset_ids"])
        if step["asset_ids"]:
            assert step["finding_ids"]
    # the entry holes on the routes to the weights come first: people and standing credentials
    first = {s["control"] for s in steps[:3]}
    assert first & {"M-PHISHRES-MFA", "M-MFA", "M-IAM-HARDENING"}, first
    assert not first & {"M-HONEYPOT-CANARY", "M-API-WATERMARK", "M-PROMPT-GUARDRAILS"}


def test_demo_cut_separates_attackers_from_jewels(api_client: Any, demo: System) -> None:
    api_client.force_login(User.objects.get(username="demo"))
    body = api_client.get(url(demo)).json()
    cut = body["cut"]
    assets = set(Asset.objects.filter(system=demo).values_list("pk", flat=True))
    chosen = {a["asset_id"] for a in cut["assets"]}
    assert chosen and chosen <= assets
    spent = sum(a["annual_cost"] for a in cut["assets"]) + sum(f["annual_cost"] for f in cut["flows"])
    assert cut["annual_cost"] == pytest.approx(spent)
    # Rebuild the engine's graph and check the cut: with the chosen assets unable to pass an
    # attacker on and the chosen flows hardened, no start reaches a theft position except the
    # thefts listed as unprotected.
    from threats.engine.risk import current_paths_view
    from threats.services.library import installed_library
    from threats.services.risk import system_views
    from threats.services.snapshot import attackers_snapshot, system_snapshot

    snapshot = system_snapshot(system=demo)
    library = installed_library()
    views = system_views(system=demo, snapshot=snapshot, known={c.code for c in library.controls})
    graph, runs, _ = current_paths_view(snapshot, library, attackers_snapshot(system=demo), views["projected"])
    unprotected = {(u["attacker_id"], u["asset_id"]) for u in cut["unprotected"]}
    flows = [(f["flow_id"], f["control"]) for f in cut["flows"]]
    assert not unseparated(graph, runs, chosen, flows, unprotected)
    chokes = body["choke_points"]
    assert chokes and all(0 < c["share"] <= 1 for c in chokes)


def test_the_documented_serializer_renders_the_whole_advice(demo: System, nothing_written: Any) -> None:
    with nothing_written(demo):
        advice = system_advice(system=demo)
    assert AdviceSerializer(advice).data == advice, "a key the schema does not know would be dropped"
