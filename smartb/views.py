from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache


def home(request):
    return render(request, "home.html")


@never_cache
def healthz(request):
    """Liveness for load balancers (and the benchmarks' trivial JSON baseline): no database."""
    return JsonResponse({"ok": True})
