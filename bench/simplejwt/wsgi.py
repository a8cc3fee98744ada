"""WSGI entry point of the competitor: ``gunicorn bench.simplejwt.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.simplejwt.settings")

application = get_wsgi_application()
