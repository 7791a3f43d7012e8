"""Login lockout (django-axes) per username and address, and per address across usernames.

Locking only the pair (username, address) lets one address try one password against every
username (password spraying): 20 usernames with one wrong password each never reached a
pair's limit (issue 13, point 4). Locking the address alone at the pair's limit would lock an
office behind one NAT after a few colleagues mistype. So the address gets a limit of its own,
higher than the pair's: ``AXES_FAILURE_LIMIT`` failures of one username from one address, or
``AXES_ADDRESS_FAILURE_LIMIT`` failures of any usernames from one address, lock that address
for ``AXES_COOLOFF_TIME``.

django-axes compares one failure count with one limit, so ``get_failures`` reports the larger
of the pair's count and the address's count scaled to the pair's limit: ``floor(n * L / A)``
reaches ``L`` exactly when ``n`` reaches ``A``.
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.db.models import QuerySet, Sum


def _failures(attempts: QuerySet[AccessAttempt]) -> int:
    return int(attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0)


class AddressAwareLockoutHandler(AxesDatabaseHandler):
    """axes' database handler with the address limit described in the module docstring."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        from_address = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
        if settings.AXES_COOLOFF_TIME is not None:
            from_address = from_address.filter(attempt_time__gte=get_cool_off_threshold(request))
        pair = _failures(from_address.filter(username=get_client_username(request, credentials)))
        limit = int(settings.AXES_FAILURE_LIMIT)
        address_limit = max(int(settings.AXES_ADDRESS_FAILURE_LIMIT), 1)
        return max(pair, _failures(from_address) * limit // address_limit)
