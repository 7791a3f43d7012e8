"""The API tokens page: create (secret shown once, digest stored), use, last-used time, revoke."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from workbench.models import ApiToken
from workbench.services.tokens import token_digest, token_issue

pytestmark = pytest.mark.django_db

PAGE = reverse("workbench:tokens")
SECRET = re.compile(r'data-testid="token-secret">(mtw_[A-Za-z0-9_-]+)<')


def create(client, **fields):
    data = {"name": "CMDB sync", "team": fields.pop("team"), "access": "write", "expires_in": "30", **fields}
    return client.post(PAGE, data)


def test_page_needs_a_login(client_as):
    response = client_as(None).get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_secret_is_shown_once_and_only_its_digest_is_stored(client_as, editor, team_a, api_client):
    client = client_as("editor")

    response = create(client, team=team_a.pk)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    (raw,) = SECRET.findall(response.content.decode())
    token = ApiToken.objects.get(user=editor)
    assert (token.name, token.team_id, token.read_only) == ("CMDB sync", team_a.pk, False)
    assert token.digest == token_digest(raw)
    assert raw not in (token.name, token.prefix, token.digest)
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    later = client.get(PAGE).content.decode()
    assert raw not in later
    assert token.prefix in later
    # The secret works against the API, and the page then shows when it was last used.
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get("/api/v1/systems/").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    assert "Never" not in client.get(PAGE).content.decode().split(token.prefix)[1].split("</tr>")[0]


def test_a_token_without_expiry(client_as, viewer, team_a):
    create(client_as("viewer"), team=team_a.pk, access="read", expires_in="")

    token = ApiToken.objects.get(user=viewer)
    assert (token.read_only, token.expires_at) == (True, None)


def test_a_viewer_cannot_make_a_write_token(client_as, viewer, team_a, nothing_written):
    client = client_as("viewer")
    with nothing_written():
        response = create(client, team=team_a.pk, access="write")

    assert response.status_code == 400
    assert "viewer can only hold read-only tokens" in response.content.decode()


@pytest.mark.parametrize(
    "fields",
    [{"name": "   "}, {"access": "admin"}, {"expires_in": "9999"}, {"name": "<script>x</script>" + "a" * 100}],
)
def test_invalid_forms_write_nothing(client_as, editor, team_a, fields, nothing_written):
    client = client_as("editor")
    with nothing_written():
        response = create(client, team=team_a.pk, **fields)

    assert response.status_code == 400


def test_a_team_one_is_not_in_is_not_a_choice(client_as, outsider, team_a, nothing_written):
    client = client_as("outsider")
    with nothing_written():
        response = create(client, team=team_a.pk)

    assert response.status_code == 400
    assert "Acme" not in response.content.decode()


def test_names_are_escaped(client_as, editor, team_a):
    token_issue(user=editor, team=team_a, name="<img src=x onerror=alert(1)>")

    page = client_as("editor").get(PAGE).content.decode()

    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_holder_revokes_a_token_and_the_api_refuses_it(client_as, editor, team_a, api_client):
    token, raw = token_issue(user=editor, team=team_a, name="ci", read_only=False)

    response = client_as("editor").post(reverse("workbench:token_revoke", kwargs={"pk": token.pk}))

    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get("/api/v1/systems/").status_code == 401
    assert "Revoked" in client_as("editor").get(PAGE).content.decode()


def test_a_team_admin_sees_and_revokes_members_tokens(client_as, owner, editor, team_a):
    token, _ = token_issue(user=editor, team=team_a, name="editor laptop")
    client = client_as("owner")

    assert "editor laptop" in client.get(PAGE).content.decode()
    assert client.post(reverse("workbench:token_revoke", kwargs={"pk": token.pk})).status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_others_can_neither_see_nor_revoke_a_token(client_as, editor, team_a, persona, nothing_written):
    token, _ = token_issue(user=editor, team=team_a, name="editor laptop")
    client = client_as(persona)

    assert "editor laptop" not in client.get(PAGE).content.decode()
    with nothing_written():
        response = client.post(reverse("workbench:token_revoke", kwargs={"pk": token.pk}))
    assert response.status_code == 404


def test_revoking_needs_a_post(client_as, editor, team_a):
    token, _ = token_issue(user=editor, team=team_a, name="ci")

    assert client_as("editor").get(reverse("workbench:token_revoke", kwargs={"pk": token.pk})).status_code == 405
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_a_token_beyond_the_users_cap_is_a_form_error(client_as, editor, team_a, settings, nothing_written):
    settings.API_MAX_ACTIVE_TOKENS = 1
    client = client_as("editor")
    create(client, team=team_a.pk)

    with nothing_written():
        response = create(client, team=team_a.pk, name="Second job")

    assert response.status_code == 400
    assert "You already hold 1 active API tokens" in response.content.decode()
    assert not SECRET.findall(response.content.decode())
