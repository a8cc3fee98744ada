"""WSGI entry point: ``gunicorn authcore.wsgi:application``.

Django's application behind the front door (``authcore.front_door``), which answers the
liveness probe and the public documents without Django's request cycle.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authcore.settings")

django_application = get_wsgi_application()

from authcore.front_door import FrontDoor  # noqa: E402 - needs the apps loaded above

application = FrontDoor(django_application)
