"""Two people edit the same asset at once: the second save is refused (412), says so, and loses nothing.

Bob and Alice open the same system in two browser contexts. Both change the "Weights bucket"
asset, in different fields. Alice saves first; Bob's page says the system was changed by Alice;
Bob's save is answered 412 and the conflict dialog offers Reload or "Keep mine and retry". Keeping
his re-applies only the fields he changed on top of Alice's version, so both edits survive.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import with_password
from tests.factories import MembershipFactory, TeamFactory, UserFactory, make_system
from workbench.choices import AssetKind, Role
from workbench.models import Asset, AuditEvent, System
from workbench.services.elements import asset_save

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_system() -> System:
    team = TeamFactory(name="Acme", slug="acme")
    users = {}
    for name, role in (("bob", Role.EDITOR), ("alice", Role.ADMIN)):
        users[name] = with_password(UserFactory(username=name))
        MembershipFactory(team=team, user=users[name], role=role)
    system = make_system(actor=users["alice"], team=team, name="Shared platform")
    asset_save(actor=users["alice"], system=system, name="Weights bucket", kind=AssetKind.OBJECT_STORE)
    system.refresh_from_db()
    return system


def open_asset(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("[data-editor-state=ready]")
    page.select_option("[data-testid=pick]", label="Weights bucket")


def test_the_second_save_gets_the_conflict_dialog_and_nothing_is_lost(
    login, live_server, shared_system, screenshots, watch
):
    watch.allow("status of 412 (Precondition Failed)")  # the refused save, which this test provokes
    url = f"{live_server.url}/systems/{shared_system.slug}/"
    bob, alice = login("bob"), login("alice")
    open_asset(bob, url)
    open_asset(alice, url)
    bob.fill("#asset-description", "Versioned bucket, object lock on")
    bob.check("#asset-encrypted")

    alice.fill("#asset-name", "Weights bucket (prod)")
    alice.click("[data-testid=save]")
    alice.wait_for_selector("[data-testid=editor-status]:has-text('Saved · version')")
    assert not alice.locator("[data-testid=changed-banner]").is_visible()  # her own change raises no banner

    # Bob's page notices within a few seconds, and names who changed it.
    bob.wait_for_selector("[data-testid=changed-banner]:has-text('alice')", timeout=10_000)
    bob.click("[data-testid=save]")
    dialog = bob.locator("[data-testid=conflict]")
    dialog.wait_for(state="visible")
    assert "Someone else changed this system" in dialog.inner_text()
    assert "1 unsaved change(s) are kept" in dialog.inner_text()
    bob.screenshot(path=str(screenshots / "conflict.png"), full_page=True)
    asset = Asset.objects.get(system=shared_system)
    assert asset.name == "Weights bucket (prod)" and asset.description == "" and not asset.encrypted_at_rest

    bob.click("[data-testid=conflict-retry]")
    bob.wait_for_selector("[data-testid=editor-status]:has-text('Saved · version')")
    assert not dialog.is_visible()
    asset.refresh_from_db()
    assert asset.name == "Weights bucket (prod)"  # Alice's edit survives
    assert asset.description == "Versioned bucket, object lock on" and asset.encrypted_at_rest  # and Bob's
    updates = AuditEvent.objects.filter(system=shared_system, object_type="asset", verb="update")
    assert sorted(updates.values_list("actor_name", flat=True)) == ["alice", "bob"]
    assert "name" not in updates.get(actor_name="bob").after  # Bob's retry sent only his fields


def test_reload_drops_my_pending_change_and_shows_theirs(login, live_server, shared_system, watch):
    watch.allow("status of 412 (Precondition Failed)")
    url = f"{live_server.url}/systems/{shared_system.slug}/"
    bob, alice = login("bob"), login("alice")
    open_asset(bob, url)
    open_asset(alice, url)
    bob.fill("#asset-name", "Bob's name")
    alice.fill("#asset-name", "Alice's name")
    alice.click("[data-testid=save]")
    alice.wait_for_selector("[data-testid=editor-status]:has-text('Saved · version')")
    bob.click("[data-testid=save]")
    bob.locator("[data-testid=conflict]").wait_for(state="visible")
    bob.click("[data-testid=conflict-reload]")
    bob.wait_for_selector("[data-testid=save]:has-text('Save changes (0)')")
    assert bob.locator('[data-testid=pick] option:has-text("Alice\'s name")').count() == 1
    assert Asset.objects.get(system=shared_system).name == "Alice's name"
