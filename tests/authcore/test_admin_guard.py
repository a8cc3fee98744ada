"""Every admin page answers a hostile id or filter as "not found" or "bad filter", never 500
(authcore/admin_guard.py): PostgreSQL refuses a NUL character with an error, not "no row"."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from authcore.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def root() -> Client:
    browser = Client(raise_request_exception=False)
    browser.force_login(User.objects.create_superuser(username="root", email="r@example.test"))
    return browser


def hostile_pages() -> list[str]:
    pages = []
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pages += [f"{base}%00/change/", f"{base}%00/history/", f"{base}?q=%00"]
    return pages


@pytest.mark.parametrize("path", hostile_pages())
def test_a_nul_in_an_admin_id_or_filter_is_never_a_500(root, path):
    assert root.get(path).status_code in {200, 302, 404}
