"""The advice endpoint: team scoping, a bounded number of queries, and advice on the demo system
that agrees with the stored risk and the model it came from."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator

from tests.factories import AttackerProfileFactory, DataFlowFactory
from threats.api import urls as api_urls
from threats.api.advice import AdviceSerializer
from threats.models import Finding, SystemRisk
from threats.services.advice import system_advice
from threats.services.library import library_seed
from threats.services.recompute import system_recompute
from workbench.demo import load_demo
from workbench.models import Asset, DataFlow, System
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
    assert body["flows"]["crown_jewel_ids"], "the larger system was really priced"


def test_schema_documents_the_advice_endpoint() -> None:
    # Only this route is generated, so the test does not depend on every other endpoint's schema.
    route = next(p for p in api_urls.urlpatterns if getattr(p, "name", "") == "system-advice")
    schema = SchemaGenerator(patterns=[path("api/v1/", include([route]))]).get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/systems/{slug}/advice/"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/Advice")
    step = schema["components"]["schemas"]["AdviceStep"]["properties"]
    assert {"control", "asset_ids", "finding_ids", "loss_before", "loss_after"} <= set(step)
    assert schema["components"]["schemas"]["AdvicePath"]["properties"]["flow_ids"]["items"]["nullable"] is True


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
        assert step["loss_before"] == before and step["loss_after"] < step["loss_before"]
        assert step["annual_cost"] == pytest.approx(step["yearly_cost"] + step["one_off_cost"] / 3)
        assert sum(f["loss_before"] - f["loss_after"] for f in step["findings"]) == pytest.approx(step["reduction"])
        before = step["loss_after"]
    assert controls["loss_after"] == before
    assert controls["reaches_appetite"] == (controls["loss_after"] <= body["appetite"])
    # suggestions name real rows of this system, so a button can post them
    findings = set(Finding.objects.filter(system=demo).values_list("pk", flat=True))
    assets = set(Asset.objects.filter(system=demo).values_list("pk", flat=True))
    for step in steps:
        assert step["finding_ids"] and set(step["finding_ids"]) <= findings
        assert set(step["asset_ids"]) <= assets and (step["scope"] == "system") == (not step["asset_ids"])
    api = Asset.objects.get(system=demo, name="Public inference API")
    assert api.pk in steps[0]["asset_ids"], "the anonymous logit-returning API is fixed first"


def test_demo_flow_cut_leaves_no_path_to_a_crown_jewel(api_client: Any, demo: System) -> None:
    api_client.force_login(User.objects.get(username="demo"))
    flows = api_client.get(url(demo)).json()["flows"]
    cut = {f["flow_id"] for f in flows["cut"]}
    assert cut and cut <= set(DataFlow.objects.filter(system=demo).values_list("pk", flat=True))
    weights = Asset.objects.get(system=demo, name="Flagship LLM weights")
    assert weights.pk in flows["crown_jewel_ids"]
    # Rebuild the moves from the rows: flows (both ways if bidirectional), host -> content,
    # internet -> internet-facing or internet-zone assets; then drop the cut flows.
    moves = nx.DiGraph()
    assets = list(Asset.objects.filter(system=demo).select_related("zone"))
    for asset in assets:
        moves.add_node(asset.pk)
        if asset.hosted_on_id:
            moves.add_edge(asset.hosted_on_id, asset.pk)
        if asset.internet_facing or (asset.zone and asset.zone.trust_level == 0):
            moves.add_edge("internet", asset.pk)
    for flow in DataFlow.objects.filter(system=demo).exclude(pk__in=cut):
        moves.add_edge(flow.source_id, flow.target_id)
        if flow.bidirectional:
            moves.add_edge(flow.target_id, flow.source_id)
    exposed = {u["asset_id"] for u in flows["unprotected"]}
    protected = set(flows["crown_jewel_ids"]) - exposed
    assert weights.pk in protected
    for profile in demo.attackers.prefetch_related("entry_assets", "entry_zones"):
        starts: set[Any] = {a.pk for a in profile.entry_assets.all()}
        for zone in profile.entry_zones.all():  # the internet, or inside the zone (every asset of it)
            starts |= {"internet"} if zone.trust_level == 0 else {a.pk for a in assets if a.zone_id == zone.pk}
        for start in starts & set(moves):
            for jewel in protected:
                assert not nx.has_path(moves, start, jewel), f"{profile.name} still reaches asset {jewel}"
    crossing = [p for f in flows["cut"] for p in f["paths"] if p["target_id"] == weights.pk]
    assert any(p["attacker_name"] == "Anonymous API user" and p["from_internet"] for p in crossing)


def test_the_documented_serializer_renders_the_whole_advice(demo: System, nothing_written: Any) -> None:
    with nothing_written(demo):
        advice = system_advice(system=demo)
    assert AdviceSerializer(advice).data == advice, "a key the schema does not know would be dropped"
