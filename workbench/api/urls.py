"""API v1 routes; later issues add their endpoints to this router."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from workbench.api.views import SystemViewSet

router = DefaultRouter()
router.register("systems", SystemViewSet, basename="system")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("threats.api.urls")),
    path("", include("mitigations.api.urls")),
    path("", include("workbench.api.inventory")),
    path("", include(router.urls)),
]
