"""The set-based writers (``workbench.services.bulk``) store exactly what ``save()`` would.

The recompute writes every finding's figures and risk JSON through them, so a value they
mangle (a quote in a name, a float's last digit, a nested JSON string) would be a wrong figure
on screen. Each example writes a finding's columns through the writer of the connection in use
(``unnest`` arrays on PostgreSQL, one prepared statement per row elsewhere) and through the
portable one, and reads them back: they must equal what the ORM's own ``update()`` stores (on
PostgreSQL, jsonb keeps a float such as 6.7e16 as the integer its decimal form spells, whoever
writes it).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threats.models import Finding, ThreatTemplate
from workbench.models import System
from workbench.services.bulk import OrmWriter, create_all, writer_for_connection

pytestmark = pytest.mark.django_db

# PostgreSQL text and jsonb refuse NUL; every other character must survive.
TEXT = st.text(st.characters(blacklist_characters="\x00"), max_size=40)
FLOAT = st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(
    st.none() | st.booleans() | FLOAT | st.integers(-(2**53), 2**53) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
VALUES = st.fixed_dictionaries(
    {
        "target_repr": TEXT,
        "current_mean": st.none() | FLOAT,
        "current_p90": FLOAT,
        "likelihood_band": st.none() | st.integers(0, 5),
        "risk": st.dictionaries(TEXT, JSON, max_size=4),
        "explanation": st.lists(TEXT, max_size=3),
        "risk_version": st.none() | st.integers(0, 2**62),
    }
)


def _finding(system: System, template: ThreatTemplate, n: int) -> Finding:
    return Finding(
        team_id=system.team_id,
        system=system,
        template=template,
        target_type="asset",
        target_key=f"asset:{n}",
        target_repr=f"Asset {n}",
        computed_version=1,
    )


def _stored(pk: int, names: list[str]) -> dict[str, Any]:
    return dict(Finding.objects.filter(pk=pk).values(*names).get())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(VALUES, min_size=1, max_size=3))
def test_updates_store_every_value_as_given(system: System, library: None, rows: list[dict[str, Any]]) -> None:
    template = ThreatTemplate.objects.order_by("pk").first()
    assert template is not None
    Finding.objects.filter(system=system).delete()
    findings = [_finding(system, template, n) for n in range(len(rows))]
    create_all(Finding, findings, now=timezone.now())
    expected = []
    for finding, values in zip(findings, rows, strict=True):
        Finding.objects.filter(pk=finding.pk).update(**values)  # the ORM's own conversion
        expected.append(_stored(finding.pk, list(values)))
    for writer in {type(w): w for w in (writer_for_connection(), OrmWriter())}.values():
        Finding.objects.filter(system=system).update(target_repr="", risk={}, explanation=[])
        writer.update(Finding, [(f.pk, values) for f, values in zip(findings, rows, strict=True)], {})
        stored = [_stored(finding.pk, list(values)) for finding, values in zip(findings, rows, strict=True)]
        assert stored == expected, type(writer).__name__


def test_create_all_gives_keys_and_stamps_like_bulk_create(system: System, library: None) -> None:
    template = ThreatTemplate.objects.order_by("pk").first()
    assert template is not None
    now = timezone.now()
    findings = [_finding(system, template, n) for n in range(3)]
    findings[1].risk = {"note": 'a "quoted" \\ value', "share": 0.1 + 0.2}

    create_all(Finding, findings, now=now)

    assert all(f.pk is not None and not f._state.adding for f in findings)
    stored = {f.pk: f for f in Finding.objects.filter(system=system)}
    assert sorted(stored) == sorted(f.pk for f in findings)
    assert stored[findings[1].pk].risk == {"note": 'a "quoted" \\ value', "share": 0.1 + 0.2}
    assert all(f.first_seen_at is not None and f.updated_at is not None for f in stored.values())
