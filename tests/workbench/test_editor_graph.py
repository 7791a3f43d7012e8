"""The editor's graph read for big systems (issue 8): lean, constant in queries, and versioned.

``risk_version`` tells the editor which results its findings belong to, so the version poller's
first answer does not make it fetch and draw a 2,000-element graph a second time.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from threats.models import SystemRisk
from workbench.models import System
from workbench.services.synthetic import system_generate

pytestmark = pytest.mark.django_db


def graph_url(system: System) -> str:
    return f"/api/v1/systems/{system.slug}/graph/"


def version_url(system: System) -> str:
    return f"/api/v1/systems/{system.slug}/version/"


def test_the_graph_says_which_results_its_findings_belong_to(client_as, system):
    client = client_as("viewer")

    before = client.get(graph_url(system)).json()
    SystemRisk.objects.update_or_create(system=system, defaults={"computed_version": system.version})
    after = client.get(graph_url(system)).json()

    assert before["risk_version"] == 0
    assert after["risk_version"] == system.version
    # The same figure the poller reports: equal means nothing new to fetch.
    assert client.get(version_url(system)).json()["risk_version"] == after["risk_version"]


def _graph_queries(client: Any, system: System) -> tuple[int, dict[str, Any]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(graph_url(system))
    assert response.status_code == 200
    return len(queries), response.json()


def test_the_graph_costs_the_same_queries_for_10_or_200_assets(client_as, editor, team_a):
    small = system_generate(actor=editor, team=team_a, name="Small", assets=10, flows_per_asset=3)
    large = system_generate(actor=editor, team=team_a, name="Large", assets=200, flows_per_asset=3)
    client = client_as("editor")
    client.get(graph_url(small))  # warm the session

    small_queries, _ = _graph_queries(client, small)
    large_queries, graph = _graph_queries(client, large)

    assert large_queries == small_queries
    assert len(graph["assets"]) == 200 and len(graph["flows"]) == large.flows.count()
    assert all(isinstance(row, dict) and "system" not in row and "team" not in row for row in graph["assets"])


def test_the_graph_of_another_team_is_404(client_as, other_system):
    assert client_as("viewer").get(graph_url(other_system)).status_code == 404
