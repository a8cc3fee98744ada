"""Every admin page answers a hostile id or filter as "not found" or "bad filter", never 500
(authcore/admin_guard.py): PostgreSQL refuses a NUL character with an error, not "no row"."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
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


def view_on_site_pages() -> list[str]:
    """The admin's "view on site" redirect, for every registered model, with ids its key
    cannot hold (a UUID key given "1" was a 500: found by fuzzing)."""
    return [
        f"/admin/r/{ContentType.objects.get_for_model(model).pk}/{object_id}/"
        for model in admin.site._registry
        for object_id in ("1", "%00", "not-a-key")
    ]


def test_view_on_site_with_an_id_its_model_cannot_hold_is_a_404(root):
    answers = {path: root.get(path).status_code for path in view_on_site_pages()}
    assert set(answers.values()) == {404}, answers


def test_view_on_site_is_for_staff_only(db):
    (path, *_) = view_on_site_pages()
    answered = Client().get(path)
    assert answered.status_code == 302 and "/admin/login/" in answered["Location"]
