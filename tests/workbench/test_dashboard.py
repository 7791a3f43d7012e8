"""The team dashboard: each system's risk against its appetite, freshness, counts, scoping, budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mitigations.services.plans import plan_create
from tests.factories import make_system
from threats.models import Control, Finding, FindingStatus, SystemRisk
from threats.selectors_risk import dashboard_risk
from threats.services.library import library_seed
from threats.services.recompute import system_recompute
from threats.templatetags.humanize_money import money
from workbench import selectors
from workbench.choices import JobKind, JobStatus
from workbench.models import Job, System, Team
from workbench.services.elements import asset_save

pytestmark = pytest.mark.django_db


# --- reading the page ------------------------------------------------------------------------


@dataclass
class Row:
    slug: str
    state: str
    classes: str
    cells: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


class _RowParser(HTMLParser):
    """Collects each ``tr[data-slug]``: its state, classes, the text of its ``data-testid`` cells
    and the machine-readable ``<data value>`` inside them, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self._row: Row | None = None
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "tr" and "data-slug" in attr:
            self._row = Row(attr["data-slug"], attr.get("data-state", ""), attr.get("class", ""))
            self.rows.append(self._row)
        elif self._row is not None and tag == "td" and "data-testid" in attr:
            self._cell = attr["data-testid"]
            self._row.cells[self._cell] = ""
        elif self._row is not None and self._cell and tag == "data":
            self._row.values[self._cell] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None and self._cell:
            self._row.cells[self._cell] += data


def _text(value: str) -> str:
    return " ".join(value.split())


def dashboard(client: Any) -> tuple[str, list[Row]]:
    response = client.get(reverse("workbench:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    parser = _RowParser()
    parser.feed(html)
    for row in parser.rows:
        row.cells = {key: _text(value) for key, value in row.cells.items()}
    return html, parser.rows


def row_of(rows: list[Row], system: System) -> Row:
    return next(row for row in rows if row.slug == system.slug)


# --- building systems ------------------------------------------------------------------------


def _exposed(system: System, actor: Any) -> System:
    """Give ``system`` an anonymous internet-facing LLM endpoint, so the rules find threats."""
    asset_save(
        actor=actor,
        system=system,
        name="Chat API",
        kind="inference_endpoint",
        zone=system.zones.get(trust_level=0),
        internet_facing=True,
        authentication="none",
        model_class="llm",
        output_granularity="logits",
        value_min=1_000_000,
        value_likely=3_000_000,
        value_max=9_000_000,
    )
    system.refresh_from_db()
    return system


@pytest.fixture
def computed(system: System, owner: Any) -> System:
    """Team A's system with real results: recomputed, a plan proposed, recomputed again (fresh)."""
    library_seed()
    _exposed(system, owner)
    system_recompute(system_id=system.pk)
    finding = Finding.objects.filter(system=system, status=FindingStatus.OPEN).order_by("pk").first()
    assert finding is not None
    control = Control.objects.filter(threat_links__threat=finding.template, active=True).first()
    plan_create(actor=owner, system=system, control=control, findings=[finding])
    system_recompute(system_id=system.pk)
    system.refresh_from_db()
    return system


def _results(system: System, mean: float, *, projected: float | None = None, version: int | None = None) -> None:
    """Store results directly (no engine): the dashboard only reads ``SystemRisk``."""
    projected = mean / 2 if projected is None else projected
    SystemRisk.objects.update_or_create(
        system=system,
        defaults={
            "computed_version": system.version if version is None else version,
            "computed_at": timezone.now(),
            "totals": {
                "inherent": {"mean": mean * 2, "p90": mean * 4},
                "current": {"mean": mean, "p90": mean * 2},
                "projected": {"mean": projected, "p90": projected * 2},
            },
        },
    )


def _appetite(system: System, amount: int) -> None:
    """Set the appetite without a version bump (a plain row update), so results stay fresh."""
    System.objects.filter(pk=system.pk).update(risk_appetite=amount)


# --- figures ---------------------------------------------------------------------------------


def test_figures_shown_are_the_stored_system_risk(client_as, computed: System) -> None:
    risk = SystemRisk.objects.get(system=computed)
    current, projected = risk.totals["current"], risk.totals["projected"]

    _, rows = dashboard(client_as("viewer"))
    row = row_of(rows, computed)

    assert float(row.values["current"]) == pytest.approx(current["mean"], abs=0.01)
    assert float(row.values["projected"]) == pytest.approx(projected["mean"], abs=0.01)
    assert f"{money(current['mean'])} {computed.currency}" in row.cells["current"]
    assert f"p90 {money(current['p90'])}" in row.cells["current"]
    assert f"{money(projected['mean'])} {computed.currency}" in row.cells["projected"]
    assert float(row.values["appetite"]) == float(computed.risk_appetite)
    ratio = current["mean"] / float(computed.risk_appetite)
    assert f"{ratio * 100:.0f}% of the risk appetite" in row.cells["against"]


def test_counts_are_open_findings_and_proposed_plans(client_as, computed: System) -> None:
    open_count = Finding.objects.filter(system=computed, status=FindingStatus.OPEN).count()
    assert open_count > 0

    _, rows = dashboard(client_as("viewer"))
    row = row_of(rows, computed)

    assert row.cells["open-findings"].startswith(f"{open_count} open findings")
    assert row.cells["plans-awaiting"] == f"1 plan awaiting approval in {computed.name}"


def test_a_system_over_its_appetite_is_labelled_and_listed_first(client_as, owner: Any, team_a: Team) -> None:
    within = make_system(actor=owner, team=team_a, name="Alpha within")
    over = make_system(actor=owner, team=team_a, name="Zulu over")
    _appetite(within, 10_000_000)
    _appetite(over, 100_000)
    _results(within, 2_000_000)
    _results(over, 2_000_000)

    html, rows = dashboard(client_as("viewer"))

    assert [row.slug for row in rows] == [over.slug, within.slug]
    assert "Over appetite" in row_of(rows, over).cells["against"]
    assert "over-appetite" in row_of(rows, over).classes
    assert "2000% of the risk appetite" in row_of(rows, over).cells["against"]
    assert "Within appetite" in row_of(rows, within).cells["against"]
    assert "over-appetite" not in row_of(rows, within).classes
    assert "1 of 2 over appetite" in html


def test_the_projected_share_of_the_appetite_is_shown(client_as, system: System) -> None:
    _appetite(system, 1_000_000)
    _results(system, 2_000_000, projected=500_000)

    _, rows = dashboard(client_as("viewer"))

    assert "50% of appetite" in row_of(rows, system).cells["projected"]


# --- freshness -------------------------------------------------------------------------------


def test_fresh_results_say_when_and_for_which_version(client_as, computed: System) -> None:
    html, rows = dashboard(client_as("viewer"))
    row = row_of(rows, computed)

    assert row.state == "fresh"
    assert row.cells["freshness"].startswith("Fresh computed")
    assert row.cells["freshness"].endswith(f"ago at v{computed.version}")
    assert 'data-computing="false"' in html and "hx-trigger" not in html


def test_an_edit_makes_the_results_stale_until_recomputed(client_as, computed: System, owner: Any) -> None:
    before = computed.version
    asset_save(actor=owner, system=computed, name="Another store", kind="object_store", zone=computed.zones.first())
    computed.refresh_from_db()
    assert computed.version > before

    html, rows = dashboard(client_as("viewer"))
    row = row_of(rows, computed)

    assert row.state == "recomputing"
    assert f"Recomputing v{before} → v{computed.version}" in row.cells["freshness"]
    assert f"from version {before} to version {computed.version}" in row.cells["freshness"]
    # The figures of the older results stay on show, and the section refreshes itself.
    assert row.values["current"]
    assert 'data-computing="true"' in html and 'hx-trigger="every 5s"' in html


def test_a_system_never_computed_says_so(client_as, system: System) -> None:
    _, rows = dashboard(client_as("viewer"))
    row = row_of(rows, system)

    assert row.state == "pending"
    assert "Not computed yet" in row.cells["freshness"]
    assert row.cells["current"] == "—" and "No results yet" in row.cells["against"]


def test_a_failed_recompute_is_shown_as_failed(client_as, system: System) -> None:
    _results(system, 1_000, version=system.version)
    System.objects.filter(pk=system.pk).update(version=system.version + 1)
    Job.objects.create(
        team=system.team,
        system=system,
        kind=JobKind.RECOMPUTE,
        status=JobStatus.FAILED,
        system_version=system.version + 1,
    )

    _, rows = dashboard(client_as("viewer"))
    row = row_of(rows, system)

    assert row.state == "failed"
    assert f"Recompute of v{system.version + 1} failed" in row.cells["freshness"]
    assert f"showing v{system.version}" in row.cells["freshness"]


def test_a_failed_run_followed_by_a_running_one_is_recomputing(system: System) -> None:
    _results(system, 1_000, version=system.version)
    System.objects.filter(pk=system.pk).update(version=system.version + 1)
    common = {"team": system.team, "system": system, "kind": JobKind.RECOMPUTE, "system_version": system.version + 1}
    Job.objects.create(status=JobStatus.FAILED, **common)
    Job.objects.create(status=JobStatus.RUNNING, **common)

    (row,) = dashboard_risk(systems=[System.objects.get(pk=system.pk)])

    assert row.state == "recomputing" and row.failed_version is None


# --- scope, escaping, query budget -----------------------------------------------------------


def test_another_teams_system_is_not_listed(client_as, system: System, other_system: System) -> None:
    _results(other_system, 5_000_000)

    html, rows = dashboard(client_as("viewer"))

    assert [row.slug for row in rows] == [system.slug]
    assert other_system.name not in html and other_system.team.name not in html


def test_system_and_team_names_are_escaped(client_as, owner: Any, team_a: Team) -> None:
    Team.objects.filter(pk=team_a.pk).update(name="<script>alert('team')</script>")
    make_system(actor=owner, team=team_a, name="<script>alert('x')</script>")

    html, _ = dashboard(client_as("viewer"))

    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#x27;team&#x27;)&lt;/script&gt;" in html


def _grow(owner: Any, team: Team, *, start: int, stop: int) -> None:
    """Systems with results, an open finding, a proposed plan and recompute Jobs each."""
    control = Control.objects.filter(active=True).first()
    for number in range(start, stop):
        system = _exposed(make_system(actor=owner, team=team, name=f"Budget {number:02d}"), owner)
        system_recompute(system_id=system.pk)
        finding = Finding.objects.filter(system=system, status=FindingStatus.OPEN).first()
        plan_create(actor=owner, system=system, control=control, findings=[finding])


def _queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        _, rows = dashboard(client)
    # Every system really has something to count, so the budget covers the counting queries.
    assert rows and all(row.cells["open-findings"][0] != "0" and row.values["current"] for row in rows)
    return len(queries)


def test_query_count_does_not_grow_with_the_number_of_systems(client_as, owner: Any, team_a: Team) -> None:
    library_seed()
    client = client_as("viewer")
    _grow(owner, team_a, start=0, stop=3)
    with_three = _queries(client)
    _grow(owner, team_a, start=3, stop=12)
    with_twelve = _queries(client)

    assert System.objects.filter(team=team_a).count() == 12
    assert with_twelve == with_three


def test_dashboard_rows_come_in_three_queries(owner: Any, team_a: Team, django_assert_num_queries: Any) -> None:
    library_seed()
    _grow(owner, team_a, start=0, stop=3)
    systems = list(selectors.system_list(user=owner))

    with django_assert_num_queries(3):
        rows = dashboard_risk(systems=systems)

    assert len(rows) == 3 and all(row.has_results and row.plans_awaiting == 1 for row in rows)
