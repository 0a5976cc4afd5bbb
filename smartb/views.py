from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache


def home(request):
    return render(request, "home.html")


@never_cache
def healthz(request):
    """Liveness for load balancers (and the benchmarks' trivial JSON baseline): no database."""
    return JsonResponse({"ok": True})


def not_found(request, exception=None):
    """A URL that matches no route: under /api/ the API's JSON error body (a client parsing
    JSON never meets an HTML page, e.g. for a path parameter no route accepts), elsewhere
    the usual page."""
    if request.path.startswith("/api/"):
        body = {"error": {"code": "not_found", "message": _("Not found.")}}
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)
