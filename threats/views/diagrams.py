"""Diagram pages: the SVG and PNG of a system's diagrams, and the polled diagrams panel.

SVG is served from our origin as ``image/svg+xml`` under a CSP that forbids every fetch and
script (``default-src 'none'``; inline styles only, which dot's output uses), with ``nosniff``,
and embedded with ``<img>``, where browsers run no script anyway: three layers over the builder's
escaping and ``sanitize_svg``. ``?download=1`` answers with an attachment instead.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from threats.models import DiagramKind, DiagramState, SystemDiagram
from threats.render import RenderError
from threats.selectors_diagrams import diagram_for_serving, diagram_panel
from threats.services.diagrams import diagram_png
from workbench.models import System
from workbench.selectors import system_get

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"
RETRY_SECONDS = 5


def _kind(kind: str) -> str:
    if kind not in DiagramKind.values:
        raise Http404("No such diagram.")
    return kind


def _headers(response: HttpResponse, system: System, diagram: SystemDiagram, ext: str, download: bool) -> HttpResponse:
    rendered = diagram.rendered
    assert rendered is not None
    response["Content-Security-Policy"] = SVG_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"  # team-scoped: never in a shared cache
    response["ETag"] = f'"{rendered.dot_hash}.{ext}"'
    response["X-Diagram-Version"] = str(diagram.version)
    name = f"{system.slug}-{diagram.kind}-v{diagram.version}.{ext}"  # slugs are [-a-z0-9_] only
    response["Content-Disposition"] = f'{"attachment" if download else "inline"}; filename="{name}"'
    return response


def unavailable(diagram: SystemDiagram | None) -> HttpResponse:
    """503 while the first render is pending (with Retry-After), or with the reason it failed."""
    if diagram is None or diagram.state != DiagramState.FAILED:
        response = HttpResponse("The diagram is being rendered.\n", status=503, content_type="text/plain")
        response["Retry-After"] = str(RETRY_SECONDS)
        return response
    return HttpResponse(f"The diagram could not be rendered: {diagram.error}\n", status=503, content_type="text/plain")


def svg_response(request: HttpRequest, system: System, kind: str) -> HttpResponse:
    """The SVG of one diagram of a visible system (shared by the page route and the API)."""
    diagram = diagram_for_serving(system=system, kind=_kind(kind))
    if diagram is None or diagram.rendered is None:
        return unavailable(diagram)
    etag = f'"{diagram.rendered.dot_hash}.svg"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(bytes(diagram.rendered.svg), content_type="image/svg+xml")
    return _headers(response, system, diagram, "svg", request.GET.get("download") == "1")


@login_required
@require_safe
def diagram_svg(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    return svg_response(request, system_get(user=request.user, slug=slug), kind)


@login_required
@require_safe
def diagram_png_view(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """The PNG, rasterised on first request (same sandbox as the SVG) and cached with it."""
    system = system_get(user=request.user, slug=slug)
    diagram = diagram_for_serving(system=system, kind=_kind(kind))
    if diagram is None or diagram.rendered is None:
        return unavailable(diagram)
    try:
        png = diagram_png(diagram=diagram)
    except RenderError as exc:
        return HttpResponse(f"The PNG could not be rendered: {exc}\n", status=503, content_type="text/plain")
    response = HttpResponse(png, content_type="image/png")
    return _headers(response, system, diagram, "png", request.GET.get("download") == "1")


@login_required
@require_safe
def diagrams_panel(request: HttpRequest, slug: str) -> HttpResponse:
    """The diagrams panel of the system page, polled with htmx while a newer render is due."""
    system = system_get(user=request.user, slug=slug)
    return render(request, "threats/_diagrams.html", {"system": system, "diagrams": diagram_panel(system=system)})
