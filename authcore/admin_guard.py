"""One guard for every admin page: ids and filters reach the database only in a form it takes.

PostgreSQL answers a NUL character in a value, or a filter value its column cannot hold
(``?client_ip=x`` on an inet column), with an error, which Django's admin turns into a 500
instead of "not found". Every ModelAdmin of the project mixes this in first.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
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
        except (ValueError, OverflowError) as error:
            # A value the column's type refuses, found while counting; a date the calendar
            # lacks (?created_at__year=9999&created_at__month=12 asks for year 10000).
            raise IncorrectLookupParameters() from error

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Any], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        """An action on selected rows whose ids the primary key cannot hold (``abc`` for a
        UUID, ``1.5`` for an integer, a NUL) selects nothing, as Django says when nothing is
        selected, instead of failing in ``filter(pk__in=...)``."""
        key = self.model._meta.pk  # type: ignore[attr-defined]
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not all(_fits(key, value) for value in selected):
            self.message_user(  # type: ignore[attr-defined]
                request, "The selection named rows that cannot exist.", messages.WARNING
            )
            return None
        return super().response_action(request, queryset, *args, **kwargs)  # type: ignore[misc]


def _fits(key: Any, value: str) -> bool:
    """Whether ``value`` can be a value of the primary-key field ``key``."""
    if "\x00" in value:
        return False
    try:
        return key.to_python(value) not in (None, "")
    except ValidationError:
        return False


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


def no_autocomplete(request: HttpRequest) -> HttpResponseBase:
    """``/admin/autocomplete/``: no admin here uses ``autocomplete_fields``, and Django's view
    answered a NUL search term (DataError) or a reverse relation's name (AttributeError) with
    a 500. Not found, for everyone."""
    raise Http404("No autocomplete here.")
