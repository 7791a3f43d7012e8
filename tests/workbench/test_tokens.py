"""API token services: issue (secret shown once, digest stored), authenticate, revoke; all audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.factories import MembershipFactory
from workbench.choices import Role
from workbench.models import ApiToken, AuditEvent, System, Team
from workbench.services.audit import team_verify_audit
from workbench.services.tokens import TOKEN_PREFIX, token_authenticate, token_digest, token_issue, token_revoke

pytestmark = pytest.mark.django_db


def last_event(team: Team) -> AuditEvent:
    return AuditEvent.objects.filter(team=team).latest("sequence")


def test_token_issue_returns_the_secret_once_and_stores_only_its_digest(editor, team_a):
    token, raw = token_issue(user=editor, team=team_a, name="  laptop  ", read_only=False)

    assert raw.startswith(TOKEN_PREFIX)
    assert len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == token_digest(raw) != raw
    assert stored.prefix == raw[:12]
    assert raw not in {stored.name, stored.prefix, stored.digest}
    assert (stored.name, stored.read_only, stored.team_id, stored.user_id) == ("laptop", False, team_a.pk, editor.pk)


def test_token_issue_writes_an_audit_event_without_a_version_bump(editor, system):
    token, raw = token_issue(user=editor, team=system.team, name="ci")

    event = last_event(system.team)
    assert (event.verb, event.object_type, event.object_id) == ("issue_token", "apitoken", str(token.pk))
    assert (event.actor_id, event.system_id) == (editor.pk, None)
    assert event.after == {"read_only": True, "expires_at": ""}
    assert raw not in str(event.after) + event.object_repr
    assert System.objects.get(pk=system.pk).version == 1
    assert team_verify_audit(team=system.team).ok


def test_issued_tokens_are_distinct(editor, team_a):
    raws = {token_issue(user=editor, team=team_a, name=f"t{n}")[1] for n in range(5)}

    assert len(raws) == 5


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer", "risk_owner"])
def test_every_member_may_hold_a_read_only_token(request, persona, team_a):
    token, _ = token_issue(user=request.getfixturevalue(persona), team=team_a, name="read")

    assert token.read_only


def test_viewer_cannot_hold_a_write_token(viewer, team_a, nothing_written):
    with nothing_written(), pytest.raises(ValidationError) as exc:
        token_issue(user=viewer, team=team_a, name="write", read_only=False)
    assert "read_only" in exc.value.message_dict


def test_token_for_a_team_the_user_is_not_in_is_refused(outsider, team_a, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied):
        token_issue(user=outsider, team=team_a, name="sneaky")


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_token_with_a_blank_name_is_refused(editor, team_a, name, nothing_written):
    with nothing_written(), pytest.raises(ValidationError) as exc:
        token_issue(user=editor, team=team_a, name=name)
    assert "name" in exc.value.message_dict


def test_authenticate_returns_the_token_and_stamps_its_last_use(editor, team_a):
    token, raw = token_issue(user=editor, team=team_a, name="ci")

    found = token_authenticate(raw)

    assert found is not None
    assert found.pk == token.pk
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_authenticate_does_not_restamp_within_a_minute(editor, team_a):
    token, raw = token_issue(user=editor, team=team_a, name="ci")
    recently = timezone.now() - timedelta(seconds=10)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recently)

    token_authenticate(raw)

    assert ApiToken.objects.get(pk=token.pk).last_used_at == recently


@pytest.mark.parametrize("raw", ["", "mtw_", "mtw_unknown", "Bearer mtw_x", "sk_" + "a" * 40, "mtw_" + "a" * 200])
def test_authenticate_refuses_unknown_or_malformed_secrets(editor, team_a, raw):
    token_issue(user=editor, team=team_a, name="ci")

    assert token_authenticate(raw) is None


def test_authenticate_refuses_a_revoked_token(editor, team_a):
    token, raw = token_issue(user=editor, team=team_a, name="ci")
    token_revoke(actor=editor, token=token)

    assert token_authenticate(raw) is None


@pytest.mark.parametrize(("offset", "accepted"), [(timedelta(seconds=-1), False), (timedelta(hours=1), True)])
def test_authenticate_honours_expiry(editor, team_a, offset, accepted):
    _, raw = token_issue(user=editor, team=team_a, name="ci", expires_at=timezone.now() + offset)

    assert (token_authenticate(raw) is not None) is accepted


def test_authenticate_refuses_a_token_of_an_inactive_user(editor, team_a):
    _, raw = token_issue(user=editor, team=team_a, name="ci")
    editor.is_active = False
    editor.save(update_fields=["is_active"])

    assert token_authenticate(raw) is None


def test_holder_revokes_their_own_token_with_an_event(viewer, team_a):
    token, _ = token_issue(user=viewer, team=team_a, name="ci")

    token_revoke(actor=viewer, token=token)

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    event = last_event(team_a)
    assert (event.verb, event.object_id, event.actor_id, event.system_id) == (
        "revoke_token",
        str(token.pk),
        viewer.pk,
        None,
    )
    assert team_verify_audit(team=team_a).ok


def test_team_admin_may_revoke_a_members_token(owner, editor, team_a):
    token, _ = token_issue(user=editor, team=team_a, name="ci")

    token_revoke(actor=owner, token=token)

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert last_event(team_a).actor_id == owner.pk


@pytest.mark.parametrize("persona", ["editor", "risk_owner", "outsider"])
def test_others_may_not_revoke_a_members_token(request, persona, viewer, team_a, nothing_written):
    token, _ = token_issue(user=viewer, team=team_a, name="ci")
    actor = request.getfixturevalue(persona)
    with nothing_written(), pytest.raises(PermissionDenied):
        token_revoke(actor=actor, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_admin_of_another_team_may_not_revoke(outsider, viewer, team_a, nothing_written):
    # Being admin somewhere (team B) and even a member of team A does not make one admin of team A.
    MembershipFactory(team=team_a, user=outsider, role=Role.EDITOR)
    token, _ = token_issue(user=viewer, team=team_a, name="ci")
    with nothing_written(), pytest.raises(PermissionDenied):
        token_revoke(actor=outsider, token=token)


def test_revoking_twice_writes_one_event(viewer, team_a, nothing_written):
    token, _ = token_issue(user=viewer, team=team_a, name="ci")
    token_revoke(actor=viewer, token=token)
    revoked_at = ApiToken.objects.get(pk=token.pk).revoked_at

    with nothing_written():
        token_revoke(actor=viewer, token=ApiToken.objects.get(pk=token.pk))

    assert ApiToken.objects.get(pk=token.pk).revoked_at == revoked_at


# --- the cap on active tokens per user (issue 13, point 4) ------------------------------------


def test_a_user_may_hold_at_most_the_configured_number_of_active_tokens(settings, editor, team_a, nothing_written):
    settings.API_MAX_ACTIVE_TOKENS = 3
    for n in range(3):
        token_issue(user=editor, team=team_a, name=f"job {n}")

    with nothing_written(), pytest.raises(ValidationError) as refused:
        token_issue(user=editor, team=team_a, name="one too many")

    assert "You already hold 3 active API tokens" in refused.value.messages[0]


def test_the_cap_counts_tokens_of_every_team(settings, editor, team_a, team_b, nothing_written):
    settings.API_MAX_ACTIVE_TOKENS = 2
    MembershipFactory(team=team_b, user=editor, role=Role.EDITOR)
    token_issue(user=editor, team=team_a, name="a")
    token_issue(user=editor, team=team_b, name="b")

    with nothing_written(), pytest.raises(ValidationError):
        token_issue(user=editor, team=team_b, name="c")


def test_revoked_and_expired_tokens_free_their_place(settings, editor, team_a):
    settings.API_MAX_ACTIVE_TOKENS = 2
    revoked, _ = token_issue(user=editor, team=team_a, name="old laptop")
    token_issue(user=editor, team=team_a, name="expired", expires_at=timezone.now() + timedelta(days=1))
    with pytest.raises(ValidationError):
        token_issue(user=editor, team=team_a, name="refused while both are live")
    token_revoke(actor=editor, token=revoked)
    ApiToken.objects.filter(name="expired").update(expires_at=timezone.now() - timedelta(seconds=1))

    token_issue(user=editor, team=team_a, name="new laptop")
    token_issue(user=editor, team=team_a, name="ci")

    assert ApiToken.objects.filter(user=editor).count() == 4


def test_the_cap_is_per_user(settings, editor, owner, team_a):
    settings.API_MAX_ACTIVE_TOKENS = 1
    token_issue(user=editor, team=team_a, name="mine")

    token, _ = token_issue(user=owner, team=team_a, name="theirs")

    assert token.user_id == owner.pk
    with pytest.raises(ValidationError):
        token_issue(user=editor, team=team_a, name="second of mine")
