"""schemathesis against the live test server: every operation, thousands of generated requests.

Authenticated as an editor's read-write token, each operation of the served schema gets
positive (schema-conforming) and negative (schema-violating) requests; no answer may be a 5xx,
use an undocumented status or content type, or break the documented response schema.

Most generated path parameters are swapped for ids and slugs that exist (a fuzzer that only
hits 404s tests nothing); one in eight is left as generated. Deletes of the system itself aim
at a scratch system, and the world is topped up between requests so that later operations
still find elements to read and change. Generation is derandomized, so a failure reproduces.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mitigations.models import MitigationPlan, RiskAcceptance
from mitigations.services.acceptances import acceptance_create
from mitigations.services.plans import plan_create
from tests.factories import AssetFactory, DataFlowFactory, TrustZoneFactory, make_system
from threats.models import Control, Finding, ThreatTemplate
from threats.services.diagrams import system_render_diagrams
from threats.services.library import library_seed
from threats.services.recompute import system_recompute
from workbench.choices import JobKind
from workbench.models import Asset, DataFlow, Job, System, TrustZone
from workbench.services.elements import asset_save
from workbench.services.tokens import token_issue

pytestmark = [pytest.mark.schemathesis, pytest.mark.timeout(600)]

# Sized so the whole suite stays under 15 minutes in CI; every run draws new inputs.
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 6}
MINIMUM_REQUESTS = 840  # 63 operations x 14 examples: generation must not silently collapse
# Body fields holding ids of this collection (the elements' and the mitigations' inputs).
BODY_IDS = {
    "zone": "zones",
    "parent": "zones",
    "entry_zones": "zones",
    "hosted_on": "assets",
    "source": "assets",
    "target": "assets",
    "carries": "assets",
    "entry_assets": "assets",
    "assets": "assets",
    "finding": "findings",
    "findings": "findings",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


class LiveWorld:
    """Team A's system as the fuzzer's editor sees it, with ids to aim generated requests at.

    The "Chat API" asset is never offered to the fuzzer's writes: its findings are what the
    plan and the acceptance (which reads of plans and acceptances need) are made for.
    """

    def __init__(self, owner: Any, team: Any) -> None:
        self.owner, self.team = owner, team
        library_seed()
        self.rendered = False
        self.system = self._new_system("Fuzzed platform")
        self.job = Job.objects.create(team=team, system=self.system, kind=JobKind.SYNC)
        self.threat_codes = list(ThreatTemplate.objects.values_list("code", flat=True)[:5])
        self.control_codes = list(Control.objects.values_list("code", flat=True)[:5])
        self.top_up()

    def _new_system(self, name: str) -> System:
        self.rendered = False
        system = make_system(actor=self.owner, team=self.team, name=name)
        self.chat_api = asset_save(
            actor=self.owner,
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
        return system

    def top_up(self) -> None:
        """Recreate what generated writes took: the system, a few elements, a plan, an acceptance."""
        if not System.objects.filter(pk=self.system.pk).exists():
            self.system = self._new_system(f"Fuzzed platform {self.system.pk}")
            self.job = Job.objects.create(team=self.team, system=self.system, kind=JobKind.SYNC)
        if not self.rendered:
            # With a broker (CI) nobody renders in this test: draw once, so the diagrams answer
            # 200 with their last render instead of 503 "being rendered".
            system = System.objects.get(pk=self.system.pk)
            self.rendered = system_render_diagrams(system_id=system.pk, version=system.version).status != "gone"
        system = self.system
        for _ in range(3 - TrustZone.objects.filter(system=system).count()):
            TrustZoneFactory(system=system)
        for _ in range(4 - Asset.objects.filter(system=system).count()):
            AssetFactory(system=system)
        if DataFlow.objects.filter(system=system).count() < 2:
            a, b = Asset.objects.filter(system=system).exclude(pk=self.chat_api.pk)[:2]
            DataFlowFactory(system=system, source=a, target=b)
        findings = list(Finding.objects.filter(system=system, asset_id=self.chat_api.pk).applicable()[:2])
        if len(findings) < 2:
            system_recompute(system_id=system.pk)
            findings = list(Finding.objects.filter(system=system, asset_id=self.chat_api.pk).applicable()[:2])
        if not MitigationPlan.objects.filter(system=system, status__in=["proposed", "approved"]).exists():
            control = Control.objects.get(code="M-RATE-QUOTA")
            plan_create(actor=self.owner, system=system, control=control, findings=[findings[0]])
        if not RiskAcceptance.objects.filter(system=system, status="active").exists():
            acceptance_create(
                actor=self.owner,
                finding=findings[1],
                justification="Accepted for the fuzzer.",
                expires_on=timezone.localdate() + timedelta(days=30),
            )

    def ids(self, collection: str) -> list[Any]:
        querysets: dict[str, Callable[[], Any]] = {
            "zones": lambda: TrustZone.objects.filter(system=self.system),
            "assets": lambda: Asset.objects.filter(system=self.system).exclude(pk=self.chat_api.pk),
            "flows": lambda: DataFlow.objects.filter(system=self.system),
            "attackers": lambda: self.system.attackers.all(),
            "plans": lambda: MitigationPlan.objects.filter(system=self.system),
            "acceptances": lambda: RiskAcceptance.objects.filter(system=self.system),
            "findings": lambda: Finding.objects.filter(system=self.system),
        }
        if collection == "threats":
            return self.threat_codes
        if collection == "controls":
            return self.control_codes
        if collection == "jobs":
            return [self.job.pk]
        return list(querysets[collection]().values_list("pk", flat=True)[:20]) if collection in querysets else []

    def aim(self, case: Any) -> None:
        """Swap most generated path parameters for real ones (deterministically, by value)."""
        params = case.path_parameters or {}
        segments = [s for s in case.operation.path.split("/") if s]
        for name, value in list(params.items()):
            if zlib.crc32(repr(value).encode()) % 8 == 0 and "/" not in str(value):
                # Keep the generated value: unknown ids must be clean 404s. (A value with a
                # slash is not kept: "../.." would send the request outside /api/v1/.)
                continue
            if name == "slug":
                if segments[2] == "teams":
                    params[name] = self.team.slug
                elif case.method.upper() == "DELETE" and segments[-1] == "{slug}":
                    params[name] = make_system(actor=self.owner, team=self.team, seed_defaults=False).slug
                else:
                    params[name] = self.system.slug
                continue
            if name not in {"id", "code", "job_id"}:
                continue  # enums such as a diagram's kind are generated from the schema already
            collection = segments[segments.index("{" + name + "}") - 1]
            choices = self.ids("jobs" if name == "job_id" else collection)
            if choices:
                params[name] = choices[zlib.crc32(repr(value).encode()) % len(choices)]
        if isinstance(case.body, dict):
            for key, value in list(case.body.items()):
                if key in BODY_IDS:
                    case.body[key] = self._aim_ids(value, self.ids(BODY_IDS[key]))

    @staticmethod
    def _aim_ids(value: Any, choices: list[Any]) -> Any:
        """Integers in a body (one id or a list of ids) swapped for ids that exist, most of the time."""

        def one(item: Any) -> Any:
            if type(item) is not int or not choices or zlib.crc32(repr(item).encode()) % 8 == 0:
                return item
            return choices[zlib.crc32(repr(item).encode()) % len(choices)]

        return [one(item) for item in value] if isinstance(value, list) else one(value)


@pytest.fixture
def live_world(live_server: Any, owner: Any, editor: Any, team_a: Any, settings: Any) -> LiveWorld:
    settings.RISK_DRAWS = 200  # writes recompute in-process on the embedded default; keep it quick
    return LiveWorld(owner, team_a)


def test_generated_requests_against_every_operation(live_server: Any, live_world: LiveWorld, editor: Any) -> None:
    _, raw = token_issue(user=editor, team=live_world.team, name="schemathesis", read_only=False)
    headers = {"Authorization": f"Bearer {raw}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    session = requests.Session()
    sent: Counter[str] = Counter()
    succeeded: Counter[str] = Counter()
    failures: dict[tuple[str, str], str] = {}

    def runner(operation: Any, mode: GenerationMode) -> Callable[[], None]:
        @settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            if operation.method.upper() == "DELETE":
                live_world.top_up()
            live_world.aim(case)
            response = case.call(base_url=live_server.url, session=session, headers=headers, timeout=30)
            sent[operation.label] += 1
            if response.status_code < 300:
                succeeded[operation.label] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as exc:
                for failure in exc.exceptions:
                    key = (operation.label, type(failure).code)
                    failures.setdefault(key, f"{mode} {response.request.method} {response.request.url}\n{exc}"[:3000])

        return run

    for operation in operations:
        live_world.top_up()
        for mode in EXAMPLES:
            try:
                runner(operation, mode)()
            except Unsatisfiable:
                continue  # nothing to negate (an operation without parameters or body)

    assert not failures, "\n\n".join(f"{label} [{code}]:\n{text}" for (label, code), text in failures.items())
    assert {op.label for op in operations} <= set(sent), "some operations were never exercised"
    # The aimed path parameters work: every read found something real at least once.
    unread = [op.label for op in operations if op.method.upper() == "GET" and not succeeded[op.label]]
    assert not unread, f"GET operations that never answered 2xx: {unread}"
    print(f"schemathesis: {sum(sent.values())} requests, {sum(succeeded.values())} answered 2xx")
    assert sum(sent.values()) >= MINIMUM_REQUESTS, sent
