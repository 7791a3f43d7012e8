"""API v1 routes; later issues add their endpoints to this router.

Elements are nested under their system (``systems/{slug}/assets/`` ...), see
``workbench.api.elements``. The last route answers every other path under /api/v1/ with a JSON
404, so clients never receive the HTML error page.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.routers import DefaultRouter, SimpleRouter

from workbench.api.base import SLUG_PATTERN
from workbench.api.batch import SystemBatchView, SystemLayoutView
from workbench.api.editor import SystemGraphView, SystemVersionView
from workbench.api.elements import AssetViewSet, AttackerProfileViewSet, DataFlowViewSet, TrustZoneViewSet
from workbench.api.views import CachedSchemaView, SystemViewSet, TeamViewSet, UnknownEndpointView

router = DefaultRouter()
router.include_format_suffixes = False  # one URL per resource; content negotiation uses Accept
router.register("teams", TeamViewSet, basename="team")
router.register("systems", SystemViewSet, basename="system")

elements = SimpleRouter()
elements.register(rf"systems/(?P<slug>{SLUG_PATTERN})/zones", TrustZoneViewSet, basename="system-zone")
elements.register(rf"systems/(?P<slug>{SLUG_PATTERN})/assets", AssetViewSet, basename="system-asset")
elements.register(rf"systems/(?P<slug>{SLUG_PATTERN})/flows", DataFlowViewSet, basename="system-flow")
elements.register(rf"systems/(?P<slug>{SLUG_PATTERN})/attackers", AttackerProfileViewSet, basename="system-attacker")

urlpatterns = [
    path("schema/", CachedSchemaView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("threats.api.urls")),
    path("", include("mitigations.api.urls")),
    path("", include("workbench.api.inventory")),
    path("systems/<slug:slug>/graph/", SystemGraphView.as_view(), name="system-graph"),
    path("systems/<slug:slug>/version/", SystemVersionView.as_view(), name="system-version"),
    path("systems/<slug:slug>/batch/", SystemBatchView.as_view(), name="system-batch"),
    path("systems/<slug:slug>/layout/", SystemLayoutView.as_view(), name="system-layout"),
    path("", include(elements.urls)),
    path("", include(router.urls)),
    re_path(r"^[\s\S]*$", UnknownEndpointView.as_view(), name="api-unknown"),  # newlines too
]
