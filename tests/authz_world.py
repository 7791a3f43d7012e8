"""The world both authorization matrices meet (tests/api/test_authz_matrix.py, tests/test_pages_matrix.py).

Team A's system with elements, and, built on demand so a route that needs none pays nothing,
findings, plans in each state, an acceptance, a job, a finding comment and an API token.
Everything a persona acts on is made by two extra members (``pete``, an editor, and ``rosa``,
a risk owner) who are not personas, so the four-eyes and "author may remove" rules never
decide a persona's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from mitigations.services.acceptances import acceptance_create
from mitigations.services.plans import plan_create
from mitigations.services.transitions import plan_transition
from tests.factories import MembershipFactory, UserFactory
from threats.models import Control, Finding
from threats.services.comments import finding_comment_add
from threats.services.library import library_seed
from threats.services.recompute import system_recompute
from workbench.choices import JobKind, Role
from workbench.models import ApiToken, Job
from workbench.services.elements import asset_save
from workbench.services.tokens import token_issue

MEMBERS = ("owner", "editor", "viewer", "risk_owner")
PERSONAS = (*MEMBERS, "outsider")
EDIT = ("owner", "editor")
APPROVERS = ("owner", "risk_owner")


def url_patterns(
    patterns: list[Any] | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, URLPattern]]:
    """Every URL pattern of the project as (namespace, full regex, pattern), read from the resolver.

    Both matrices take their routes from here rather than from a list, so a route added later is
    in them at once and fails until the matrix says who may use it.
    """
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        regex = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
            yield from url_patterns(entry.url_patterns, regex, inner)
        elif isinstance(entry, URLPattern):
            yield namespace, regex, entry


def in_a_month() -> date:
    return timezone.localdate() + timedelta(days=30)


class World:
    """Team A's system with elements, and (built on demand) findings, plans, an acceptance, a job."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.request = request
        self.elements = request.getfixturevalue("elements")
        self.system = self.elements.system
        for persona in PERSONAS:
            request.getfixturevalue(persona)
        self._cache: dict[str, Any] = {}

    def _once(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def _member(self, username: str, role: str) -> Any:
        user = UserFactory(username=username)
        MembershipFactory(team=self.system.team, user=user, role=role)
        return user

    @property
    def pete(self) -> Any:
        return self._once("pete", lambda: self._member("pete", Role.EDITOR))

    @property
    def rosa(self) -> Any:
        return self._once("rosa", lambda: self._member("rosa", Role.RISK_OWNER))

    def library_code(self, code: str) -> str:
        self._once("library", library_seed)
        return code

    @property
    def findings(self) -> list[Finding]:
        def build() -> list[Finding]:
            self.request.getfixturevalue("settings").RISK_DRAWS = 300
            self.library_code("")
            asset_save(
                actor=self.pete,
                system=self.system,
                name="Chat API",
                kind="inference_endpoint",
                zone=self.system.zones.get(trust_level=0),
                internet_facing=True,
                authentication="none",
                model_class="llm",
                output_granularity="logits",
                value_min=1_000_000,
                value_likely=3_000_000,
                value_max=9_000_000,
            )
            system_recompute(system_id=self.system.pk)
            found = list(Finding.objects.filter(system=self.system).order_by("pk"))
            assert len(found) >= 2, "the matrix needs two findings"
            return found

        return self._once("findings", build)

    def plan(self, state: str) -> Any:
        def build() -> Any:
            finding = self.findings[0]  # seeds the library too
            control = Control.objects.get(code="M-RATE-QUOTA")
            plan = plan_create(actor=self.pete, system=self.system, control=control, findings=[finding])
            steps = {"proposed": [], "approved": ["approve"], "implemented": ["approve", "implement"]}[state]
            for action in steps:
                actor = self.rosa if action == "approve" else self.pete
                plan = plan_transition(actor=actor, plan=plan, action=action)
            return plan

        return self._once(f"plan-{state}", build)

    @property
    def acceptance(self) -> Any:
        return self._once(
            "acceptance",
            lambda: acceptance_create(
                actor=self.rosa,
                finding=self.findings[1],
                justification="Matrix acceptance, reviewed.",
                expires_on=in_a_month(),
            ),
        )

    @property
    def job(self) -> Job:
        return self._once(
            "job", lambda: Job.objects.create(team=self.system.team, system=self.system, kind=JobKind.SYNC)
        )

    @property
    def finding_comment(self) -> Any:
        """A comment by ``pete`` on the first finding: only its author or the team admin removes it."""
        return self._once(
            "finding-comment",
            lambda: finding_comment_add(actor=self.pete, finding=self.findings[0], body="Matrix comment."),
        )

    @property
    def token(self) -> ApiToken:
        """``pete``'s token in team A: only he and the team's admin see (and may revoke) it."""
        return self._once("token", lambda: token_issue(user=self.pete, team=self.system.team, name="Matrix token")[0])
