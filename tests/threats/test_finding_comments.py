"""The finding page and comments on findings (issue 8): who may read and write, what a comment
writes (one audit event, no version bump), escaping, bad input, and the API twin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from mitigations.services.acceptances import acceptance_create
from mitigations.services.plans import plan_create
from threats.models import Control, Finding, FindingComment, FindingStatus
from threats.services.comments import finding_comment_add, finding_comment_remove
from threats.services.recompute import system_recompute
from workbench.models import AuditEvent, System
from workbench.services.audit import team_verify_audit
from workbench.services.elements import asset_save

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fewer_draws(settings: Any) -> None:
    settings.RISK_DRAWS = 500


@pytest.fixture
def finding(exposed_llm: System) -> Finding:
    """The priced extraction finding of team A's exposed LLM endpoint."""
    system_recompute(system_id=exposed_llm.pk)
    return Finding.objects.select_related("system__team", "template").get(
        system=exposed_llm, template__code="T-EXTRACT-API"
    )


@pytest.fixture
def foreign_finding(other_system: System, outsider: Any, library: None) -> Finding:
    """A finding of team B's system."""
    asset_save(
        actor=outsider,
        system=other_system,
        name="Bravo API",
        kind="inference_endpoint",
        zone=other_system.zones.get(trust_level=0),
        internet_facing=True,
        authentication="none",
    )
    system_recompute(system_id=other_system.pk)
    found = Finding.objects.filter(system=other_system).first()
    assert found is not None
    return found


def page_url(finding: Finding) -> str:
    return reverse("threats:finding_detail", args=[finding.system.slug, finding.pk])


def post_url(finding: Finding) -> str:
    return reverse("threats:finding_comment", args=[finding.system.slug, finding.pk])


def api_url(finding: Finding) -> str:
    return f"/api/v1/systems/{finding.system.slug}/findings/{finding.pk}/comments/"


def comment_state(finding: Finding) -> tuple[int, int, int]:
    """Comments, audit events and the system version: what a refused comment leaves alone."""
    version = System.objects.values_list("version", flat=True).get(pk=finding.system_id)
    return FindingComment.objects.count(), AuditEvent.objects.count(), version


# --- adding and listing -----------------------------------------------------------------------------


def test_editor_comments_and_is_redirected_to_the_comments(client_as, finding: Finding) -> None:
    client = client_as("editor")
    response = client.post(post_url(finding), {"body": "  Rate limits alone will not stop this.  "})

    assert response.status_code == 302
    assert response["Location"] == f"{page_url(finding)}#comments"
    comment = FindingComment.objects.get()
    assert (comment.body, comment.author_name, comment.finding_id) == (
        "Rate limits alone will not stop this.",
        "bob",
        finding.pk,
    )
    assert (comment.team_id, comment.system_id) == (finding.team_id, finding.system_id)
    page = client.get(page_url(finding)).content.decode()
    assert "Rate limits alone will not stop this." in page and "<strong>bob</strong>" in page


@pytest.mark.parametrize("persona", ["owner", "risk_owner"])
def test_risk_owners_and_admins_comment_too(client_as, finding: Finding, persona: str) -> None:
    assert client_as(persona).post(post_url(finding), {"body": "Reviewed."}).status_code == 302
    assert FindingComment.objects.filter(finding=finding).count() == 1


def test_comments_are_listed_oldest_first_with_line_breaks(client_as, finding: Finding, editor, risk_owner) -> None:
    finding_comment_add(actor=editor, finding=finding, body="First.\r\nSecond line.")
    finding_comment_add(actor=risk_owner, finding=finding, body="Reply.")
    page = client_as("viewer").get(page_url(finding)).content.decode()

    assert page.index("First.<br>Second line.") < page.index("Reply.")
    assert FindingComment.objects.filter(finding=finding).first().body == "First.\nSecond line."


def test_a_script_in_a_comment_is_escaped_on_the_page(client_as, finding: Finding, editor) -> None:
    finding_comment_add(actor=editor, finding=finding, body='<script>alert("x")</script><img src=x onerror=alert(1)>')
    page = client_as("viewer").get(page_url(finding)).content.decode()

    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "   \n\t ", "x" * 5001])
def test_empty_or_too_long_comment_is_a_400_with_the_error_and_writes_nothing(
    client_as, finding: Finding, body: str
) -> None:
    before = comment_state(finding)
    response = client_as("editor").post(post_url(finding), {"body": body})

    assert response.status_code == 400
    assert comment_state(finding) == before
    page = response.content.decode()
    assert 'id="id_body_error"' in page and 'aria-invalid="true"' in page
    assert "This field is required." in page or "at most 5000 characters" in page


def test_a_comment_of_exactly_5000_characters_fits(client_as, finding: Finding) -> None:
    assert client_as("editor").post(post_url(finding), {"body": "y" * 5000}).status_code == 302
    assert len(FindingComment.objects.get().body) == 5000


@pytest.mark.parametrize("body", ["", "  ", "z" * 5001, "nul\x00byte"])
def test_the_service_refuses_bad_bodies_itself(finding: Finding, editor, body: str) -> None:
    before = comment_state(finding)
    with pytest.raises(ValidationError) as exc:
        finding_comment_add(actor=editor, finding=finding, body=body)
    assert "body" in exc.value.message_dict
    assert comment_state(finding) == before


# --- who may read and write -------------------------------------------------------------------------


def test_viewer_reads_the_page_but_gets_no_form_and_cannot_post(client_as, finding: Finding, editor, viewer) -> None:
    finding_comment_add(actor=editor, finding=finding, body="Visible to viewers.")
    client = client_as("viewer")
    page = client.get(page_url(finding))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Visible to viewers." in text and post_url(finding) not in text

    before = comment_state(finding)
    assert client.post(post_url(finding), {"body": "Me too."}).status_code == 403
    assert client.post(post_url(finding), {"body": ""}).status_code == 403  # the role is refused first
    assert comment_state(finding) == before
    with pytest.raises(PermissionDenied):
        finding_comment_add(actor=viewer, finding=finding, body="Direct call.")


def test_outsider_gets_404_for_the_page_the_post_and_the_api(client_as, api_client, finding: Finding, outsider) -> None:
    before = comment_state(finding)
    client = client_as("outsider")
    assert client.get(page_url(finding)).status_code == 404
    assert client.post(post_url(finding), {"body": "Hello from Bravo."}).status_code == 404
    api_client.force_login(outsider)
    assert api_client.get(api_url(finding)).status_code == 404
    assert api_client.post(api_url(finding), {"body": "Hello."}, format="json").status_code == 404
    assert comment_state(finding) == before


def test_a_finding_of_another_system_is_404_through_this_systems_url(
    client_as, finding: Finding, foreign_finding: Finding
) -> None:
    """Team A's slug with team B's finding id: the finding is looked up inside the URL's system."""
    slug = finding.system.slug
    client = client_as("owner")
    before = comment_state(finding)
    assert client.get(reverse("threats:finding_detail", args=[slug, foreign_finding.pk])).status_code == 404
    assert (
        client.post(reverse("threats:finding_comment", args=[slug, foreign_finding.pk]), {"body": "x"}).status_code
        == 404
    )
    assert comment_state(finding) == before


def test_anonymous_is_sent_to_log_in(client_as, finding: Finding) -> None:
    response = client_as(None).post(post_url(finding), {"body": "Who am I?"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not FindingComment.objects.exists()


# --- audit, activity feed, version ------------------------------------------------------------------


def test_a_comment_is_one_audit_event_shown_in_the_activity_feed(client_as, finding: Finding) -> None:
    client = client_as("editor")
    head = AuditEvent.objects.count()
    client.post(post_url(finding), {"body": "Needs a second look."})

    assert AuditEvent.objects.count() == head + 1
    event = AuditEvent.objects.latest("sequence")
    assert (event.verb, event.object_type, event.object_id) == ("comment", "finding", str(finding.pk))
    assert event.actor_name == "bob" and event.system_ref == finding.system_id
    assert event.after == {"comment_id": FindingComment.objects.get().pk, "comment": "Needs a second look."}
    assert team_verify_audit(team=finding.system.team).ok

    feed = client.get(reverse("workbench:activity", args=[finding.system.slug])).content.decode()
    assert "<strong>bob</strong> comment finding <em>T-EXTRACT-API on Chat API</em>" in feed
    system_page = client.get(finding.system.get_absolute_url()).content.decode()
    assert "comment finding" in system_page


def test_a_comment_does_not_bump_the_version_nor_queue_a_recompute(
    client_as, finding: Finding, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    version = System.objects.values_list("version", flat=True).get(pk=finding.system_id)
    with django_capture_on_commit_callbacks() as callbacks:
        assert client_as("editor").post(post_url(finding), {"body": "No numbers change."}).status_code == 302
    assert System.objects.values_list("version", flat=True).get(pk=finding.system_id) == version
    assert callbacks == []


# --- removing -----------------------------------------------------------------------------------------


def delete_url(comment: FindingComment) -> str:
    finding = comment.finding
    return reverse("threats:finding_comment_delete", args=[finding.system.slug, finding.pk, comment.pk])


def test_the_author_removes_their_comment_and_the_audit_keeps_its_text(client_as, finding: Finding, editor) -> None:
    comment = finding_comment_add(actor=editor, finding=finding, body="Posted on the wrong finding.")
    version = System.objects.values_list("version", flat=True).get(pk=finding.system_id)
    client = client_as("editor")
    assert "Remove</button>" in client.get(page_url(finding)).content.decode()

    assert client.post(delete_url(comment)).status_code == 302
    assert not FindingComment.objects.exists()
    event = AuditEvent.objects.latest("sequence")
    assert event.verb == "remove_comment" and event.before["comment"] == "Posted on the wrong finding."
    assert System.objects.values_list("version", flat=True).get(pk=finding.system_id) == version
    assert team_verify_audit(team=finding.system.team).ok


def test_only_the_author_or_an_admin_removes_a_comment(client_as, finding: Finding, editor, risk_owner, owner) -> None:
    comment = finding_comment_add(actor=editor, finding=finding, body="Mine.")
    for persona in ("risk_owner", "viewer"):
        page = client_as(persona).get(page_url(finding)).content.decode()
        assert delete_url(comment) not in page
        assert client_as(persona).post(delete_url(comment)).status_code == 403
    assert client_as("outsider").post(delete_url(comment)).status_code == 404
    assert FindingComment.objects.filter(pk=comment.pk).exists()

    assert client_as("owner").post(delete_url(comment)).status_code == 302  # the team admin moderates
    assert not FindingComment.objects.filter(pk=comment.pk).exists()


def test_removing_a_comment_twice_records_one_event(finding: Finding, editor) -> None:
    comment = finding_comment_add(actor=editor, finding=finding, body="Once.")
    stale = FindingComment.objects.select_related("team", "finding__template", "finding__system__team").get(
        pk=comment.pk
    )
    finding_comment_remove(actor=editor, comment=comment)
    events = AuditEvent.objects.count()
    finding_comment_remove(actor=editor, comment=stale)
    assert AuditEvent.objects.count() == events


# --- the page ---------------------------------------------------------------------------------------------


def test_the_page_shows_why_risk_plans_and_acceptance(client_as, finding: Finding, editor, risk_owner) -> None:
    control = Control.objects.get(code="M-PERTURB-OUTPUTS")
    plan_create(actor=editor, system=finding.system, control=control, findings=[finding])
    page = client_as("risk_owner").get(page_url(finding)).content.decode()

    assert "T-EXTRACT-API" in page and "Chat API" in page
    assert "model_class is not llm" in page  # the rule's explanation
    for view in ("inherent", "current", "projected"):
        assert f'data-testid="risk-{view}"' in page
    assert "Loss per event: PERT(" in page  # the factors behind each figure
    assert "M-PERTURB-OUTPUTS" in page and "this finding" in page and "success probability" in page
    assert reverse("mitigations:acceptance_new", args=[finding.system.slug, finding.pk]) in page
    assert "Never accepted." in page


def test_an_accepted_finding_shows_its_acceptance_and_no_accept_link(client_as, finding: Finding, risk_owner) -> None:
    acceptance_create(
        actor=risk_owner,
        finding=finding,
        justification="Tolerable while the pilot runs.",
        expires_on=timezone.localdate() + timedelta(days=30),
    )
    page = client_as("risk_owner").get(page_url(finding)).content.decode()
    assert "Tolerable while the pilot runs." in page and "rita" in page
    assert reverse("mitigations:acceptance_new", args=[finding.system.slug, finding.pk]) not in page
    assert Finding.objects.get(pk=finding.pk).status == FindingStatus.ACCEPTED


def test_viewers_see_neither_accept_nor_propose_links(client_as, finding: Finding) -> None:
    page = client_as("viewer").get(page_url(finding)).content.decode()
    assert reverse("mitigations:acceptance_new", args=[finding.system.slug, finding.pk]) not in page
    assert reverse("mitigations:plan_new", args=[finding.system.slug]) not in page


def test_the_finding_list_links_each_row_to_its_page(client_as, finding: Finding, editor) -> None:
    finding_comment_add(actor=editor, finding=finding, body="Counted.")
    page = client_as("viewer").get(reverse("threats:finding_list", args=[finding.system.slug])).content.decode()
    for other in Finding.objects.filter(system=finding.system).applicable():
        assert f'href="{page_url(other)}"' in page
    assert f'href="{page_url(finding)}#comments" aria-label="1 comment on T-EXTRACT-API on Chat API">1</a>' in page


def test_the_page_reads_in_a_bounded_number_of_queries(
    client_as, finding: Finding, editor, django_assert_max_num_queries
) -> None:
    for n in range(10):
        finding_comment_add(actor=editor, finding=finding, body=f"Comment {n}.")
    client = client_as("viewer")
    with django_assert_max_num_queries(20):
        assert client.get(page_url(finding)).status_code == 200


# --- the API ------------------------------------------------------------------------------------------------


def test_api_adds_lists_and_refuses_like_the_page(api_client, finding: Finding, editor, viewer) -> None:
    api_client.force_login(editor)
    created = api_client.post(api_url(finding), {"body": " <b>bold</b> claim "}, format="json")
    assert created.status_code == 201
    assert created.json()["body"] == "<b>bold</b> claim" and created.json()["author_name"] == "bob"
    assert [c["body"] for c in api_client.get(api_url(finding)).json()] == ["<b>bold</b> claim"]

    before = comment_state(finding)
    for body in ("", "   ", "x" * 5001):
        response = api_client.post(api_url(finding), {"body": body}, format="json")
        assert response.status_code == 400 and "body" in response.json()["errors"]
    api_client.force_login(viewer)
    assert api_client.get(api_url(finding)).status_code == 200
    assert api_client.post(api_url(finding), {"body": "Viewer."}, format="json").status_code == 403
    assert comment_state(finding) == before


def test_api_removes_a_comment_for_its_author(api_client, finding: Finding, editor, risk_owner) -> None:
    comment = finding_comment_add(actor=editor, finding=finding, body="Delete me.")
    url = f"{api_url(finding)}{comment.pk}/"
    api_client.force_login(risk_owner)
    assert api_client.delete(url).status_code == 403
    api_client.force_login(editor)
    assert api_client.delete(url).status_code == 204
    assert api_client.delete(url).status_code == 404
