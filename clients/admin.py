"""Admin for clients and their users (API.md "Cross-cutting": API key shown once, rotate).

An API key exists in clear only in the response that creates or rotates it: the confirmation
page rendered here, never a message, session or log entry. Hashes are not admin fields at all.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from clients.models import Client, ClientUser
from clients.services import (
    ClientWithKey,
    create_client,
    delete_client,
    delete_client_user,
    rotate_client_key,
)

_NEW_KEY_ATTRIBUTE = "_authcore_new_api_key"


def _adopt(target: Client, source: Client) -> None:
    """Make the admin's unsaved form instance the client the service created."""
    for model_field in Client._meta.concrete_fields:
        setattr(target, model_field.attname, getattr(source, model_field.attname))
    target._state.adding = False
    target._state.db = source._state.db


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
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
        return ("name",) if obj is None else self.fields

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
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
            }
            return TemplateResponse(
                request, "admin/clients/client/rotate_confirmation.html", context
            )
        rotated = [
            rotate_client_key(client_id=str(client.pk), actor=request.user) for client in queryset
        ]
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
class ClientUserAdmin(admin.ModelAdmin):
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
