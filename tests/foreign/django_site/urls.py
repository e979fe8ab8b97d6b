"""Routes with Django's trailing slashes: ``/health`` is redirected to ``/health/``."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

PAGE = "<!doctype html><html><head><title>Catalogue</title></head><body>Hello</body></html>"
ITEMS = [{"id": 1, "name": "lamp"}, {"id": 2, "name": "desk"}]


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE)


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "healthy"})


def items(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"items": ITEMS})


urlpatterns = [
    path("", home),
    path("health/", health),
    path("api/items/", items),
    path("admin/", admin.site.urls),
]
