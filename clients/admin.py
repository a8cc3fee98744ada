"""Admin for clients and their users (API.md "Cross-cutting": API key shown once, rotate).

An API key exists in clear only in the response that creates or rotates it: the confirmation
page rendered here, never a message, session or log entry. Hashes are not admin fields at all.

That page is the answer to a POST, so a browser reload would send the POST again: create a
second client, or rotate again (killing the key just copied). Each form that creates or
rotates carries a single-use token (``once``) kept in the staff member's session; a POST whose
token was used is refused with a message and changes nothing. A bulk rotation runs in one
transaction: if any rotation fails, none happened (no key is lost unseen).
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from authcore.admin_guard import MalformedInputGuard
from clients.exceptions import ClientNotFound
from clients.models import Client, ClientUser
from clients.services import (
    ClientWithKey,
    create_client,
    delete_client,
    delete_client_user,
    rotate_client_key,
)

_NEW_KEY_ATTRIBUTE = "_authcore_new_api_key"
_ONCE_SESSION_KEY = "clients_admin_once"
_ONCE_KEPT = 20  # unused tokens kept per session (open forms in other tabs)
_ALREADY_DONE = (
    "This form was already submitted (the page was reloaded?); nothing was changed again. "
    "A key is shown only once: rotate again if it was not copied."
)


def _issue_once(request: HttpRequest) -> str:
    """A single-use token for one create or rotate form, remembered in the session."""
    token = secrets.token_urlsafe(16)
    pending = list(request.session.get(_ONCE_SESSION_KEY, []))[-(_ONCE_KEPT - 1) :]
    request.session[_ONCE_SESSION_KEY] = [*pending, token]
    return token


def _once_pending(request: HttpRequest) -> bool:
    return request.POST.get("once", "") in request.session.get(_ONCE_SESSION_KEY, [])


def _consume_once(request: HttpRequest) -> bool:
    """Use up the POST's token; False if it was never issued or is already used."""
    token = request.POST.get("once", "")
    pending = list(request.session.get(_ONCE_SESSION_KEY, []))
    if not token or token not in pending:
        return False
    pending.remove(token)
    request.session[_ONCE_SESSION_KEY] = pending
    return True


class ClientAddForm(forms.ModelForm):
    """The add form, with the single-use token; ``request`` is bound by ``get_form``."""

    once = forms.CharField(widget=forms.HiddenInput, required=False)
    request: HttpRequest | None = None

    class Meta:
        model = Client
        fields = ("name",)

    def clean_once(self) -> str:
        if self.request is not None and not _once_pending(self.request):
            raise forms.ValidationError(_ALREADY_DONE)
        return str(self.cleaned_data.get("once", ""))


def _adopt(target: Client, source: Client) -> None:
    """Make the admin's unsaved form instance the client the service created."""
    for model_field in Client._meta.concrete_fields:
        setattr(target, model_field.attname, getattr(source, model_field.attname))
    target._state.adding = False
    target._state.db = source._state.db


@admin.register(Client)
class ClientAdmin(MalformedInputGuard, admin.ModelAdmin):
    list_display = ("name", "id", "key_prefix", "user_count", "created_at", "key_rotated_at")
    search_fields = ("name", "id", "key_id")
    fields = ("name", "id", "key_prefix", "created_at", "key_rotated_at")
    readonly_fields = ("id", "key_prefix", "created_at", "key_rotated_at")
    actions = ("rotate_key", "revoke_client_tokens")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return super().get_queryset(request).annotate(_user_count=Count("users"))

    @admin.display(description="users", ordering="_user_count")
    def user_count(self, client: Client) -> int:
        return int(getattr(client, "_user_count", 0))

    @admin.display(description="API key")
    def key_prefix(self, client: Client) -> str:
        return client.key_prefix if client.key_id else "(created on save)"

    def get_fields(self, request: HttpRequest, obj: Client | None = None) -> Any:
        return ("name", "once") if obj is None else self.fields

    def get_form(
        self, request: HttpRequest, obj: Client | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        form = super().get_form(request, obj, change=change, form=ClientAddForm, **kwargs)
        return type("BoundClientAddForm", (form,), {"request": request})

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {**super().get_changeform_initial_data(request), "once": _issue_once(request)}

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        _consume_once(request)  # the form checked it is pending
        created = create_client(name=obj.name, actor=request.user)
        _adopt(obj, created.client)
        setattr(request, _NEW_KEY_ATTRIBUTE, created)

    def response_add(
        self, request: HttpRequest, obj: Client, post_url_continue: str | None = None
    ) -> HttpResponse:
        created: ClientWithKey | None = getattr(request, _NEW_KEY_ATTRIBUTE, None)
        if created is None:
            return super().response_add(request, obj, post_url_continue)
        return self._show_keys(request, [created], title="Client created")

    def delete_model(self, request: HttpRequest, obj: Client) -> None:
        delete_client(client=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            delete_client(client=client, actor=request.user)

    def _show_keys(
        self, request: HttpRequest, created: list[ClientWithKey], *, title: str
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "created": created,
        }
        return TemplateResponse(request, "admin/clients/client/api_key_shown.html", context)

    @admin.action(
        description="Rotate the API key of the selected clients (old keys stop working)",
        permissions=["change"],
    )
    def rotate_key(self, request: HttpRequest, queryset: QuerySet[Client]) -> HttpResponse | None:
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Rotate API keys?",
                "clients": list(queryset),
                "action": "rotate_key",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "once": _issue_once(request),
            }
            return TemplateResponse(
                request, "admin/clients/client/rotate_confirmation.html", context
            )
        if not _consume_once(request):
            self.message_user(request, _ALREADY_DONE, messages.WARNING)
            return None
        rotated: list[ClientWithKey] = []
        with transaction.atomic():  # all or none: no key is replaced without being shown
            for client in queryset:
                try:
                    rotated.append(rotate_client_key(client_id=str(client.pk), actor=request.user))
                except ClientNotFound:  # deleted since it was selected
                    continue
        return self._show_keys(request, rotated, title="API keys rotated")

    @admin.action(description="Revoke every token of the selected clients", permissions=["change"])
    def revoke_client_tokens(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        from tokens.services import revoke_tokens_of_client

        total = sum(
            revoke_tokens_of_client(client_id=str(client.pk), actor=request.user)
            for client in queryset
        )
        self.message_user(request, f"Revoked {total} token(s).", messages.SUCCESS)


@admin.register(ClientUser)
class ClientUserAdmin(MalformedInputGuard, admin.ModelAdmin):
    list_display = ("identifier", "client", "user", "email", "secret_prefix", "created_at")
    list_filter = ("client",)
    search_fields = ("identifier", "email", "user__username", "user__id", "client__name")
    list_select_related = ("client", "user")
    fields = ("identifier", "client", "user", "email", "secret_prefix", "created_at")
    readonly_fields = fields
    actions = ("revoke_user_tokens",)

    @admin.display(description="secret")
    def secret_prefix(self, client_user: ClientUser) -> str:
        return client_user.secret_prefix

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # users are created by their client, which alone receives the secret

    def delete_model(self, request: HttpRequest, obj: ClientUser) -> None:
        delete_client_user(client_user=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ClientUser]) -> None:
        for client_user in queryset:
            delete_client_user(client_user=client_user, actor=request.user)

    @admin.action(description="Revoke every token of the selected users", permissions=["change"])
    def revoke_user_tokens(self, request: HttpRequest, queryset: QuerySet[ClientUser]) -> None:
        from tokens.services import revoke_tokens_of_user

        total = sum(
            revoke_tokens_of_user(user=client_user.user, actor=request.user)
            for client_user in queryset.select_related("user")
        )
        self.message_user(request, f"Revoked {total} token(s).", messages.SUCCESS)
