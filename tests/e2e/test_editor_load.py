"""Opening a system in the editor reads its graph once (issue 8).

The graph is preloaded while the page parses (``<link rel=preload>``) and the editor's own fetch
is served from that preload; once drawn, polls that bring no newer results do not fetch it again
(a second draw of a 2,000-element graph cost as much as the first).
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import with_password
from tests.factories import MembershipFactory, TeamFactory, UserFactory, make_system
from threats.models import SystemRisk
from workbench.choices import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GRAPH_READS = "performance.getEntriesByType('resource').filter(e => e.name.includes('/graph/')).length"
POLLS = "performance.getEntriesByType('resource').filter(e => e.name.includes('/version/')).length"


def test_the_editor_reads_its_graph_once_when_nothing_changes(login, live_server, tasks):
    team = TeamFactory(name="Acme", slug="acme")
    owner = with_password(UserFactory(username="alice"))
    MembershipFactory(team=team, user=owner, role=Role.EDITOR)
    system = make_system(actor=owner, team=team, name="Quiet system")
    SystemRisk.objects.update_or_create(system=system, defaults={"computed_version": system.version})

    page = login("alice")
    page.goto(f"{live_server.url}{system.get_absolute_url()}")
    page.wait_for_selector("[data-editor-state=ready]")
    page.wait_for_function(f"() => {POLLS} >= 2", timeout=15_000)  # two polls of the version probe

    assert page.evaluate(GRAPH_READS) == 1
    assert page.locator("[data-testid=editor-status]").inner_text().startswith("Version")
