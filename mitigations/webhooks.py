"""Outbound webhook transport: HMAC-SHA256 signatures and one bounded HTTP POST.

The receiver recomputes ``sha256=<hex HMAC of the raw body with the shared secret>`` and compares
it with ``X-Workbench-Signature`` in constant time (``verify_signature`` here is that check).
Redirects are not followed (a 3xx is a failed attempt), so a delivery cannot be bounced to
another host, and each attempt has a hard timeout.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "X-Workbench-Signature"
EVENT_HEADER = "X-Workbench-Event"
DELIVERY_HEADER = "X-Workbench-Delivery"
TIMEOUT_SECONDS = 5.0
USER_AGENT = "model-theft-workbench-webhook/1"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(sign(secret, body), header or "")


class DeliveryFailed(Exception):
    """One attempt failed: connection error, timeout, redirect or a non-2xx answer."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class Delivered:
    status: int


def post(
    *, url: str, body: bytes, secret: str, event: str, delivery_id: int, timeout: float | None = None
) -> Delivered:
    """POST ``body`` once; return the 2xx status or raise ``DeliveryFailed``."""
    if not url.lower().startswith(("http://", "https://")):
        raise DeliveryFailed("Only http(s) webhook URLs are delivered.")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(secret, body),
            EVENT_HEADER: event,
            DELIVERY_HEADER: str(delivery_id),
        },
    )
    try:
        with _opener.open(request, timeout=timeout or TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code}", exc.code) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}", status)
    return Delivered(status)
