"""Every admin page answers a hostile id or filter as "not found" or "bad filter", never 500
(authcore/admin_guard.py): PostgreSQL refuses a NUL character with an error, not "no row"."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from authcore.admin_guard import MalformedInputGuard
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


# --- found by a review's probe of the admin (each was a 500) ------------------------------------


def dated_models() -> list[str]:
    return [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
        if any(field.name == "created_at" for field in model._meta.fields)
    ]


@pytest.mark.parametrize(
    "query",
    [
        "created_at__year=9999&created_at__month=12",
        "created_at__year=9999&created_at__month=12&created_at__day=31",
        "created_at__year=99999999999999999999",
    ],
)
def test_a_date_the_calendar_lacks_is_a_bad_filter(root, query):
    answers = {page: root.get(f"{page}?{query}").status_code for page in dated_models()}
    assert dated_models() and set(answers.values()) <= {200, 302}, answers  # never a 500


def action_pages() -> list[str]:
    return [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
    ]


@pytest.mark.parametrize("selected", ["abc", "1.5", "", "%00", "\x00"])
def test_an_action_on_rows_that_cannot_exist_selects_nothing(root, selected):
    body = {"action": "delete_selected", "index": "0", "_selected_action": [selected]}
    answers = {page: root.post(page, body).status_code for page in action_pages()}
    assert set(answers.values()) <= {200, 302}, answers  # never a 500


def test_an_action_on_real_rows_still_runs(root):
    doomed = User.objects.create_user(username="doomed")
    answered = root.post(
        "/admin/authcore/user/",
        {"action": "delete_selected", "_selected_action": [str(doomed.pk)], "post": "yes"},
    )
    assert answered.status_code == 302
    assert not User.objects.filter(pk=doomed.pk).exists()


@pytest.mark.parametrize(
    "query",
    [
        "app_label=passkeys&model_name=passkey&field_name=user&term=%00",
        "app_label=authcore&model_name=user&field_name=passkeys",
        "app_label=authcore&model_name=user&field_name=groups&term=a",
    ],
)
def test_the_admin_has_no_autocomplete_endpoint(root, query):
    """No admin here uses autocomplete_fields; Django's view answered these with a 500."""
    assert root.get(f"/admin/autocomplete/?{query}").status_code == 404


def test_every_registered_admin_has_the_guard():
    unguarded = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if not isinstance(model_admin, MalformedInputGuard)
    ]
    assert unguarded == []
