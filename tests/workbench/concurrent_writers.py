"""Twenty writers at once through the full HTTP stack: model edits and plan approvals.

Used by ``test_concurrent_writers.py`` in two ways: imported, against the test database (on
PostgreSQL), and run as ``python -m tests.workbench.concurrent_writers`` in a child process whose
``DATABASE_URL`` names a fresh SQLite file, so that the settings under test are the ones a
``sqlite:///`` deployment gets (the test runner would otherwise swap in an in-memory database).
The child migrates, builds the world, runs the writers and prints the answers' status codes
as JSON.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WRITERS = 20
ROUNDS = 3


@dataclass
class World:
    """A system with assets to edit, and one proposed plan per approver thread."""

    slug: str
    editors: list[Any]
    approvers: list[Any]
    asset_ids: list[int]
    plan_ids: list[int]


def build_world() -> World:
    """Team, members, a system with assets and proposed plans, all made through the services."""
    from decimal import Decimal

    from django.contrib.auth.models import User

    from mitigations.services.plans import plan_create
    from threats.models import Control
    from workbench.choices import AssetKind, Role
    from workbench.services.elements import asset_save
    from workbench.services.systems import system_create
    from workbench.services.teams import membership_set, team_create

    # One library control is enough to propose system-wide plans; seeding the whole library
    # would only add seconds (the plans' risk effect plays no part here).
    control = Control.objects.create(
        code="M-CONCURRENCY",
        name="Rate quotas",
        description="Per-client quotas on the inference API.",
        type=Control.objects.model._meta.get_field("type").choices[0][0],
        cost_one_off_min=Decimal(1000),
        cost_one_off_max=Decimal(2000),
        cost_yearly_min=Decimal(100),
        cost_yearly_max=Decimal(200),
        rand_sl=2,
        definition={},
        library_version="test",
        content_hash="0" * 64,
    )
    admin = User.objects.create_user("conc-admin", password=None)
    team = team_create(name="Concurrency team", creator=admin)
    half = WRITERS // 2
    editors = [User.objects.create_user(f"conc-editor-{n}", password=None) for n in range(half)]
    approvers = [User.objects.create_user(f"conc-risk-{n}", password=None) for n in range(half)]
    for user in editors:
        membership_set(actor=admin, team=team, user=user, role=Role.EDITOR)
    for user in approvers:
        membership_set(actor=admin, team=team, user=user, role=Role.RISK_OWNER)
    system = system_create(actor=admin, team=team, name="Concurrency platform")
    asset_ids = [
        asset_save(actor=admin, system=system, name=f"Host {n}", kind=AssetKind.GPU_HOST).pk for n in range(half)
    ]
    plan_ids = [plan_create(actor=editors[n], system=system, control=control).pk for n in range(half)]
    return World(system.slug, editors, approvers, asset_ids, plan_ids)


def _editor_work(client: Any, world: World, index: int) -> list[int]:
    """PATCH one asset and the system, and add an asset through the editor batch, ROUNDS times."""
    base = f"/api/v1/systems/{world.slug}"
    codes = []
    for turn in range(ROUNDS):
        note = json.dumps({"description": f"edited by writer {index}, turn {turn}"})
        for url in (f"{base}/assets/{world.asset_ids[index]}/", f"{base}/"):
            answer = client.patch(url, data=note, content_type="application/json")
            codes.append(answer.status_code)
        version = client.get(f"{base}/version/").json().get("version")
        create = {"op": "create", "kind": "asset", "data": {"name": f"W{index}-{turn}", "kind": "gpu_host"}}
        answer = client.post(
            f"{base}/batch/",
            data=json.dumps({"operations": [create]}),
            content_type="application/json",
            headers={"If-Match": f'"v{version}"'},
        )
        codes.append(answer.status_code)
    return codes


def _approver_work(client: Any, world: World, index: int) -> list[int]:
    """Approve the plan of this thread at the revision read, then comment on it."""
    url = f"/api/v1/systems/{world.slug}/plans/{world.plan_ids[index]}/"
    codes = []
    plan = client.get(url)
    codes.append(plan.status_code)
    revision = plan.json().get("revision", 1)
    answer = client.post(
        f"{url}approve/",
        data=json.dumps({"revision": revision, "comment": "Approved under load."}),
        content_type="application/json",
    )
    codes.append(answer.status_code)
    for turn in range(ROUNDS - 1):
        answer = client.post(
            f"{url}comments/", data=json.dumps({"body": f"Note {turn}."}), content_type="application/json"
        )
        codes.append(answer.status_code)
    return codes


def run_writers(world: World) -> Counter[int]:
    """All WRITERS threads start together; returns how many answers had each status code."""
    from django.db import connections
    from django.test import Client

    jobs: list[tuple[Callable[[Any, World, int], list[int]], Any, int]] = [
        (_editor_work, user, n) for n, user in enumerate(world.editors)
    ] + [(_approver_work, user, n) for n, user in enumerate(world.approvers)]
    clients = []
    for _, user, _ in jobs:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        clients.append(client)
    barrier = threading.Barrier(len(jobs))
    codes: Counter[int] = Counter()
    lock = threading.Lock()

    def work(job: int) -> None:
        function, _, index = jobs[job]
        try:
            barrier.wait(timeout=30)
            answers = function(clients[job], world, index)
        except Exception as exc:  # noqa: BLE001 - counted as a failure, like a 500
            answers = [599]
            print(f"writer {job} raised {exc!r}")  # noqa: T201 - the child's output is the report
        finally:
            connections.close_all()
        with lock:
            codes.update(answers)

    threads = [threading.Thread(target=work, args=(job,)) for job in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return codes


def main() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    codes = run_writers(build_world())
    print(json.dumps({str(code): count for code, count in sorted(codes.items())}))  # noqa: T201


if __name__ == "__main__":
    main()
