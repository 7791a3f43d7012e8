"""The caller's address, for API throttles and the login lockout (django-axes) alike.

``X-Forwarded-For`` is whatever the client wants it to be, except for the entries that proxies
we run appended. With ``TRUSTED_PROXY_COUNT = 0`` (the default: the app is reached directly)
the header is ignored and the address is ``REMOTE_ADDR``. Behind N proxies, each appends the
address it was connected from, so the N-th entry from the right is the one our outermost proxy
saw: the client. Entries left of it were written by the client and are never read. A header
shorter than N, or an entry that is not an IP address, falls back to ``REMOTE_ADDR``.

Before issue 13 (point 4) DRF read the whole header (so every new spoofed value was a new
throttle bucket) while axes read only ``REMOTE_ADDR`` (so behind a proxy every client shared
the proxy's lockout).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def client_ip(request: Any) -> str:
    """The client address of a Django (or DRF) request, as trusted by ``TRUSTED_PROXY_COUNT``."""
    meta = request.META
    remote = str(meta.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")]
    if len(hops) < proxies:
        return remote
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
