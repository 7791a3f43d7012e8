"""Root URLs: pages, auth, admin and the versioned REST API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from workbench.views.health import healthz

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    re_path(r"^api/(?P<version>v1)/", include("workbench.api.urls")),
    path("", include("threats.urls")),
    path("", include("mitigations.urls")),  # before workbench's systems/<slug>/<kind>/ element routes
    path("", include("workbench.web_urls")),
]

# Below /api/ a refused request and a server error answer in the API's JSON error shape.
handler400 = "workbench.api.errors.bad_request"
handler500 = "workbench.api.errors.server_error"
