"""One guard for every admin page: ids and filters reach the database only in a form it takes.

PostgreSQL answers a NUL character in a value, or a filter value its column cannot hold
(``?client_ip=x`` on an inet column), with an error, which Django's admin turns into a 500
instead of "not found". Every ModelAdmin of the project mixes this in first.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase


def _has_nul(request: HttpRequest) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for data in (request.GET, request.POST)
        for key, values in data.lists()
    )


class MalformedInputGuard:
    """Mix into a ``ModelAdmin`` (first): a hostile id is "does not exist", a hostile filter or
    selection is the admin's own bad-filter answer (``?e=1``)."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        if "\x00" in object_id:
            return None  # the admin's "does not exist" message
        return super().get_object(request, object_id, from_field)  # type: ignore[misc]

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        if _has_nul(request):
            raise IncorrectLookupParameters()
        try:
            return super().get_changelist_instance(request)  # type: ignore[misc]
        except ValueError as error:  # a value the column's type refuses, found while counting
            raise IncorrectLookupParameters() from error


def view_on_site(request: HttpRequest, content_type_id: int, object_id: str) -> HttpResponseBase:
    """The admin's "view on site" redirect (``/admin/r/<type>/<id>/``, Django's
    ``contenttypes.views.shortcut``) with this guard: an id its model's key cannot hold (not a
    UUID, a NUL) is "not found", where Django's view raised ValidationError, a 500."""
    if "\x00" in object_id:
        raise Http404("No object with this id.")
    try:
        return shortcut(request, content_type_id, object_id)
    except (ValidationError, ValueError) as error:
        raise Http404("No object with this id.") from error
