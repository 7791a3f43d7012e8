"""Every outcome of the inventory sync has an HTTP status, given by the API alone."""

from __future__ import annotations

from workbench.api.inventory_status import STATUS_BY_CODE, sync_status
from workbench.services.inventory import SyncResult, errors
from workbench.services.inventory.worker import PERMISSION_DENIED


def _refusals() -> list[type[errors.SyncError]]:
    found: list[type[errors.SyncError]] = []
    pending = [errors.SyncError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [cls for cls in found if cls not in (errors.SyncError, errors.StoredRefusal)]


def test_every_refusal_code_maps_to_a_client_error_status():
    # A new SyncError without a status here would answer 500 instead of its refusal.
    codes = {cls.code for cls in _refusals()} | {PERMISSION_DENIED}
    assert codes <= set(STATUS_BY_CODE)
    assert all(400 <= sync_status(code) < 500 for code in codes)


def test_a_sync_that_ran_is_200_and_one_accepted_as_a_job_is_202():
    assert sync_status(SyncResult({}).code) == 200
    assert sync_status(SyncResult({}, queued=True).code) == 202
