"""Outbound webhook transport: HMAC-SHA256 signatures and one bounded, pinned HTTP POST.

The receiver recomputes ``sha256=<hex HMAC of the raw body with the shared secret>`` and compares
it with ``X-Workbench-Signature`` in constant time (``verify_signature`` here is that check).

Each attempt checks the URL again (``webhook_targets.check_url``: public addresses only, https
outside DEBUG), then connects to the very address that was checked, speaking to the URL's host
name in the Host header, the TLS SNI and the certificate check. No proxy from the environment
and no redirect is followed (a 3xx is a failed attempt), so a delivery cannot be bounced inside.
The reply's body is never read; a failure is described by the status code or by one reason from
a fixed list (``DeliveryFailed``), never by text that came from the receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import socket
import ssl
from dataclasses import dataclass

from mitigations import webhook_targets

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
    """One attempt failed. The message is ours (a status, or a reason such as "timed out"), safe to
    store and show; ``permanent`` failures (a refused target) are not retried."""

    def __init__(self, message: str, status: int | None = None, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.permanent = permanent


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain http to a checked address; the Host header still names the URL's host."""

    def __init__(self, target: webhook_targets.Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to a checked address, with SNI and certificate verification against the URL's host."""

    def __init__(self, target: webhook_targets.Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Delivered:
    status: int


def _reason(exc: BaseException) -> str:
    """A fixed description of a transport error (exception texts can quote what the peer sent)."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS certificate not valid for the host"
    if isinstance(exc, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | http.client.RemoteDisconnected | BrokenPipeError):
        return "connection closed by the receiver"
    if isinstance(exc, http.client.HTTPException):
        return "not an HTTP answer"
    return "network error"


def post(
    *, url: str, body: bytes, secret: str, event: str, delivery_id: int, timeout: float | None = None
) -> Delivered:
    """POST ``body`` once; return the 2xx status or raise ``DeliveryFailed``."""
    try:
        target = webhook_targets.check_url(url)
    except webhook_targets.TargetRefused as exc:
        raise DeliveryFailed(f"refused: {exc}", permanent=True) from exc
    limit = timeout or TIMEOUT_SECONDS
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target, limit)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(secret, body),
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_id),
    }
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        status = int(connection.getresponse().status)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise DeliveryFailed(_reason(exc)) from exc
    finally:
        connection.close()
    if 300 <= status < 400:
        raise DeliveryFailed(f"status {status}, redirect not followed", status)
    if not 200 <= status < 300:
        raise DeliveryFailed(f"status {status}", status)
    return Delivered(status)
