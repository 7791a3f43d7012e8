"""The system page's element tables in Chromium: paging and filtering swap one table in place.

The diagram editor above them is neither reloaded nor redrawn, the address bar follows (so a
reload or a bookmark shows the same rows), keyboard focus stays on the control that was used,
and the strict CSP reports nothing (``watch``).
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import with_password
from tests.factories import AssetFactory, MembershipFactory, TeamFactory, UserFactory, make_system
from workbench.choices import Role
from workbench.views.tables import PAGE_SIZE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_paging_and_filtering_a_table_swaps_it_in_place(login, live_server, screenshots):
    team = TeamFactory(name="Acme", slug="acme")
    owner = with_password(UserFactory(username="alice"))
    MembershipFactory(team=team, user=owner, role=Role.VIEWER)
    editor = with_password(UserFactory(username="bob"))
    MembershipFactory(team=team, user=editor, role=Role.EDITOR)
    system = make_system(actor=editor, team=team, name="Tables")
    for i in range(PAGE_SIZE + 12):
        AssetFactory(system=system, name=f"asset-{i:03d}")
    AssetFactory(system=system, name="zz billing API")

    page = login("alice")
    page.goto(f"{live_server.url}{system.get_absolute_url()}")
    page.wait_for_selector("[data-editor-state=ready]")
    page.evaluate("window.__sameDocument = true")
    assets = page.locator("#assets")
    assert assets.get_by_text("asset-049").is_visible()

    page.focus("#assets-next")
    page.keyboard.press("Enter")
    assets.get_by_text("asset-050").wait_for()
    assert not assets.get_by_text("asset-049").is_visible()
    assert "Page 2 of 2" in assets.inner_text()
    assert page.evaluate("window.__sameDocument") is True  # no navigation: the editor kept its state
    assert page.url.endswith("?assets_page=2")
    assert page.evaluate("document.activeElement.id") == "assets-next"  # focus stays (now a disabled link)
    assert page.get_attribute("#assets-next", "aria-disabled") == "true"

    page.fill("#assets-filter", "billing")
    page.keyboard.press("Enter")
    assets.locator("[data-testid=assets-count]", has_text="billing").wait_for()
    assert assets.locator("tbody tr").all_inner_texts()[0].startswith("zz billing API")
    assert assets.locator("tbody tr").count() == 1
    assert page.evaluate("document.activeElement.id") == "assets-filter"
    assert page.evaluate("window.__sameDocument") is True
    assert "assets_q=billing" in page.url
    page.screenshot(path=str(screenshots / "system-tables-filtered.png"), full_page=True)

    page.reload()  # the address bar holds the filter: a reload shows the same rows
    page.locator("#assets").get_by_text("zz billing API").wait_for()
    assert page.locator("#assets tbody tr").count() == 1
    assert page.locator("#assets-filter").input_value() == "billing"
