"""Refusals the workbench core knows how to answer, whichever app raises them.

An app's domain refuses a write that conflicts with the state it found (a workflow step that
does not leave the current state, a decision on a revision that has moved on) by raising a
subclass of ``ConflictError``; the API's global handler (``workbench.api.errors``) answers every
one of them the same way, so it needs to know no app (ADR 0004).
"""

from __future__ import annotations

from typing import Any, ClassVar


class ConflictError(Exception):
    """A write refused because of the state it met: the API answers ``status_code`` (409) with
    ``{"detail": str(exc), "code": code, **extra()}``, so a client can re-read and decide again."""

    code: ClassVar[str] = "conflict"
    status_code: ClassVar[int] = 409

    def extra(self) -> dict[str, Any]:
        """Fields the body adds after ``detail`` and ``code`` (none by default)."""
        return {}
