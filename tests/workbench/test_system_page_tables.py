"""The system page's element tables (issue 8): a page of rows each, a name filter, htmx swaps.

Every element stays reachable through the pager and the filter, the tables only ever show the
system's own (team-scoped) rows, and the page costs the same number of queries whatever the
number of elements.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import AssetFactory, AttackerProfileFactory, DataFlowFactory, SystemFactory, TrustZoneFactory
from workbench.models import Asset, System
from workbench.services.synthetic import system_generate
from workbench.views.tables import PAGE_SIZE

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def bare(team_a, owner, editor, viewer) -> System:
    """Team A's system with no seeded zone or attackers, so each table holds only what a test adds."""
    return SystemFactory(team=team_a, name="Bare platform", slug="bare-platform")


def table_get(client: Any, system: System, kind: str, **params: str) -> str:
    """One table's partial, as its pager and filter fetch it with htmx."""
    response = client.get(system.get_absolute_url(), params, HTTP_HX_TARGET=kind, **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def row_names(html: str, prefix: str) -> list[str]:
    return re.findall(rf"<td>({re.escape(prefix)}[^<]*)", html)


def grow(system: System, kind: str, count: int) -> list[str]:
    """Add ``count`` elements of ``kind`` named ``<kind>-NNN`` and return their names in page order."""
    names = [f"{kind}-{i:03d}" for i in range(count)]
    if kind == "zones":
        for name in names:
            TrustZoneFactory(system=system, name=name, trust_level=2)
    elif kind == "assets":
        for name in names:
            AssetFactory(system=system, name=name)
    elif kind == "flows":
        source, target = AssetFactory(system=system, name="src"), AssetFactory(system=system, name="dst")
        for name in names:
            DataFlowFactory(system=system, source=source, target=target, name=name)
    else:
        for name in names:
            AttackerProfileFactory(system=system, name=name)
    return names


@pytest.mark.parametrize("kind", ["zones", "assets", "flows", "attackers"])
def test_the_pager_reaches_every_element_exactly_once(client_as, bare, kind):
    names = grow(bare, kind, PAGE_SIZE * 2 + 7)
    client = client_as("viewer")

    first = client.get(bare.get_absolute_url()).content.decode()
    pages = [row_names(table_get(client, bare, kind, **{f"{kind}_page": str(n)}), f"{kind}-") for n in (1, 2, 3)]

    assert row_names(first, f"{kind}-") == names[:PAGE_SIZE]  # the full page shows page 1 of each table
    assert [len(page) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 7]
    assert sum(pages, []) == names
    assert f"{kind}_page=2#{kind}" in first  # a plain link too, for no-JS and bookmarks


def test_a_page_number_out_of_range_shows_the_last_page(client_as, bare):
    names = grow(bare, "assets", PAGE_SIZE + 3)

    html = table_get(client_as("viewer"), bare, "assets", assets_page="99")

    assert row_names(html, "assets-") == names[PAGE_SIZE:]
    assert "Page 2 of 2" in html


def test_the_filter_finds_elements_on_any_page_and_keeps_the_other_tables_state(client_as, system):
    grow(system, "assets", PAGE_SIZE + 20)
    AssetFactory(system=system, name="zzz billing API")

    html = table_get(client_as("viewer"), system, "assets", assets_q="billing", flows_page="2")

    assert row_names(html, "zzz") == ["zzz billing API"]
    assert "Rows 1–1 of 1 matching “billing”" in html
    assert '<input type="hidden" name="flows_page" value="2">' in html
    assert f'href="{system.get_absolute_url()}?flows_page=2#assets"' in html  # "Clear" keeps flows' page


def test_flows_can_be_found_by_the_name_of_either_end(client_as, system):
    grow(system, "flows", PAGE_SIZE + 1)
    gateway = AssetFactory(system=system, name="Payment gateway")
    DataFlowFactory(system=system, source=gateway, target=Asset.objects.get(system=system, name="dst"), name="x1")

    html = table_get(client_as("viewer"), system, "flows", flows_q="payment")

    assert row_names(html, "x1") == ["x1"]


def test_a_filter_is_escaped_and_matches_nothing_of_another_team(client_as, system, other_system):
    grow(system, "assets", PAGE_SIZE + 1)
    AssetFactory(system=other_system, name="Bravo <b>secret</b> weights")

    html = table_get(client_as("viewer"), system, "assets", assets_q="<b>secret</b>")

    assert "Bravo" not in html
    assert "<b>secret</b>" not in html
    assert "&lt;b&gt;secret&lt;/b&gt;" in html
    assert "No assets match" in html


def test_an_htmx_request_for_one_table_gets_only_that_table(client_as, system):
    grow(system, "flows", 3)
    client = client_as("editor")

    response = client.get(system.get_absolute_url(), HTTP_HX_TARGET="flows", **HTMX)
    page = client.get(system.get_absolute_url())

    html = response.content.decode()
    assert 'id="flows"' in html
    assert 'id="assets"' not in html and 'id="editor"' not in html and "<html" not in html
    assert "HX-Request" in response["Vary"] and "HX-Request" in page["Vary"]
    assert 'id="assets"' in page.content.decode()


@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_TARGET": "assets", **HTMX}])
def test_outsider_gets_404_for_the_page_and_its_tables(client_as, system, headers):
    grow(system, "assets", PAGE_SIZE + 1)

    response = client_as("outsider").get(system.get_absolute_url(), {"assets_page": "2"}, **headers)

    assert response.status_code == 404
    assert b"assets-" not in response.content


def test_small_tables_have_no_filter_or_pager(client_as, elements):
    html = client_as("viewer").get(elements.system.get_absolute_url()).content.decode()

    assert 'role="search"' not in html
    assert 'class="pager"' not in html
    assert 'Assets <span class="muted small">(2)</span>' in html


def _page_queries(client: Any, system: System) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(system.get_absolute_url())
    assert response.status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_for_10_or_200_assets(client_as, editor, team_a):
    small = system_generate(actor=editor, team=team_a, name="Small", assets=10, flows_per_asset=3)
    large = system_generate(actor=editor, team=team_a, name="Large", assets=200, flows_per_asset=3)
    client = client_as("editor")
    client.get(small.get_absolute_url())  # warm the session and the per-process caches

    assert large.flows.count() > PAGE_SIZE
    assert _page_queries(client, large) == _page_queries(client, small)
    assert _page_queries(client, large) <= 19  # 17 + the assets' copies and served models (risk method v2)


def test_a_table_partial_costs_the_same_queries_for_10_or_200_assets(client_as, editor, team_a):
    small = system_generate(actor=editor, team=team_a, name="Small", assets=10, flows_per_asset=3)
    large = system_generate(actor=editor, team=team_a, name="Large", assets=200, flows_per_asset=3)
    client = client_as("editor")
    counts = []
    for system in (small, large, large):
        with CaptureQueriesContext(connection) as queries:
            table_get(client, system, "flows", flows_page="2")
        counts.append(len(queries))

    assert counts[1] == counts[2] <= counts[0] + 1  # the small system's flows fit one page: no carries query
