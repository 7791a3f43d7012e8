"""Two risk owners deciding on the same plan at the same moment, each on its own PostgreSQL
connection: exactly one decision, one Approval row and one audit event survive; the loser gets
the 409 with the winner's state. (SQLite serialises whole transactions, so the race is only
real on PostgreSQL: skipped locally without it, a failure in CI.)"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from mitigations import workflow
from mitigations.models import Approval, MitigationPlan
from mitigations.services.transitions import plan_transition
from tests.service_plugin import require_service
from workbench.models import AuditEvent
from workbench.services.audit import team_verify_audit

ROUNDS = 5


def race(plan_id: int, contenders: list[tuple[Any, str]]) -> dict[str, Any]:
    barrier = threading.Barrier(len(contenders))
    results: dict[str, Any] = {}

    def decide(user: Any, action: str) -> None:
        try:
            plan = MitigationPlan.objects.get(pk=plan_id)
            barrier.wait(timeout=10)
            plan_transition(actor=user, plan=plan, action=action, comment="Decided under contention.")
            results[action] = "ok"
        except workflow.InvalidTransition as exc:
            results[action] = ("conflict", exc.current)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[action] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=contender) for contender in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_approve_and_reject_end_in_one_decision(propose, risk_owner, risk_owner_2):
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    for _ in range(ROUNDS):
        plan = propose()

        results = race(plan.pk, [(risk_owner, workflow.APPROVE), (risk_owner_2, workflow.REJECT)])

        winners = [action for action, result in results.items() if result == "ok"]
        assert len(winners) == 1, results
        winner = winners[0]
        final = workflow.target_of(workflow.PROPOSED, winner)
        loser = next(action for action in results if action != winner)
        assert results[loser] == ("conflict", final), results
        assert MitigationPlan.objects.get(pk=plan.pk).status == final
        assert Approval.objects.filter(plan=plan).count() == 1
        decisions = AuditEvent.objects.filter(
            team=plan.team, object_type="mitigationplan", object_id=str(plan.pk), verb__in=sorted(workflow.DECISIONS)
        )
        assert list(decisions.values_list("verb", flat=True)) == [winner]
    assert team_verify_audit(team=plan.team).ok
