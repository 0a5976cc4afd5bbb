"""ASGI entry point; production servers set DJANGO_SETTINGS_MODULE=smartb.settings.production."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartb.settings.base")

application = get_asgi_application()
