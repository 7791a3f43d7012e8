"""A recompute reads and writes in a number of queries that does not grow with the system.

The after-edit recompute of a 1,000-asset system took 15 s: the writer compared each finding's
risk JSON, which had been deferred, so every unchanged finding cost one more query. Here a small
and a four-times larger system are recomputed after the same kind of edit and must need the same
number of queries, up to the few batches a bulk write splits into.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from threats.models import Finding
from threats.services.recompute import system_recompute
from workbench.models import System
from workbench.services.elements import asset_save
from workbench.services.synthetic import system_generate

pytestmark = pytest.mark.django_db


def _queries_after_edit(system: System, editor: Any) -> int:
    assert system_recompute(system_id=system.pk).status == "computed"
    system.refresh_from_db()
    endpoint = system.assets.filter(kind="inference_endpoint").order_by("pk").first()
    assert endpoint is not None
    asset_save(actor=editor, system=system, asset=endpoint, authentication="sso")
    with CaptureQueriesContext(connection) as captured:
        assert system_recompute(system_id=system.pk).status == "computed"
    return len(captured)


def test_an_edit_recompute_costs_the_same_queries_at_four_times_the_size(
    editor: Any, team_a: Any, library: None
) -> None:
    small = system_generate(actor=editor, team=team_a, name="Small", assets=30, seed=3)
    large = system_generate(actor=editor, team=team_a, name="Large", assets=120, seed=3)
    few, many = _queries_after_edit(small, editor), _queries_after_edit(large, editor)
    assert Finding.objects.filter(system=large).count() > 3 * Finding.objects.filter(system=small).count() / 2
    assert many <= few + 10, (few, many)
