"""API v1 routes; later issues add their endpoints to this router."""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from workbench.api.views import SystemViewSet

router = DefaultRouter()
router.register("systems", SystemViewSet, basename="system")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
