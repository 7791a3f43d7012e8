"""Refuse query strings that carry NUL characters, for every page and API operation at once.

PostgreSQL cannot hold a NUL in a text value, so a filter such as ``?verb=%00`` that reaches a
query raises inside the driver (a 500) unless every view checks every parameter. Form and
serializer fields already refuse NUL; parameters read by hand (audit filters, search boxes,
pagination) did not. One check here answers 400 before any view runs, in the API's JSON error
shape below ``/api/``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

DETAIL = "Query parameters must not contain NUL characters."


def _has_nul(request: HttpRequest) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists())


class RefuseNulQueryMiddleware:
    """Answer 400 to a request whose query string holds a NUL character (see module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": DETAIL, "code": "invalid"}, status=400)
            return HttpResponseBadRequest(DETAIL, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
