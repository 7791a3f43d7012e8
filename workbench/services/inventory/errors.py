"""Why an inventory sync was refused: one exception per refusal, each with a stable code.

The sync says what went wrong in its own terms (a code, a sentence, details); it does not
know HTTP. ``workbench.api.inventory_status`` maps each code to a status, and ``body()`` is
the API's one error shape, ``{"detail", "code", ...details}``, so the API sends it as it is.
A refusal stored with an Idempotency-Key comes back as a ``SyncError`` with ``replayed`` set.
"""

from __future__ import annotations

from typing import Any


class SyncError(Exception):
    """A refused sync: nothing was written."""

    code: str = "sync_refused"

    def __init__(self, detail: str, *, replayed: bool = False, **details: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.details = details
        self.replayed = replayed

    def body(self) -> dict[str, Any]:
        """The refusal as the API's error body (detail and code first, then the details)."""
        return {"detail": self.detail, "code": self.code, **self.details}


class InvalidIdempotencyKey(SyncError):
    code = "invalid_key"


class InvalidRequest(SyncError):
    """The body is not a sync request (not an object, unknown keys, wrong envelope types)."""

    code = "invalid_request"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("Invalid sync request.", errors=errors)
        self.errors = errors


class IdempotencyKeyReused(SyncError):
    """The Idempotency-Key was already used with a different body."""

    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was already used with a different body.")


class TooManyItems(SyncError):
    code = "too_many_items"


class PruneAllRequired(SyncError):
    """A full sync without assets, which would delete every asset of the source."""

    code = "prune_all_required"


class InvalidItems(SyncError):
    """Some items are invalid: ``errors`` lists them per section (capped), with their counts."""

    code = "invalid_items"


class WouldExceedLimits(SyncError):
    """The planned creations would pass the system's size limits."""

    code = "system_too_large"


class StoredRefusal(SyncError):
    """A refusal given earlier for the same Idempotency-Key and body, replayed as it was stored."""

    def __init__(self, body: dict[str, Any]) -> None:
        details = {key: value for key, value in body.items() if key not in ("detail", "code")}
        super().__init__(str(body.get("detail", "")), replayed=True, **details)
        self.code = str(body.get("code", SyncError.code))
        self.stored = body

    def body(self) -> dict[str, Any]:
        return self.stored
