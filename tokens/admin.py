"""Admin for signing keys and issued tokens. No private key material is ever shown: the sealed
private key is excluded from every form and list, and the public JWK is shown by kid only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from authcore.admin_guard import MalformedInputGuard
from tokens import services
from tokens.models import SigningKey, TokenRecord


class ReadOnlyAdmin(MalformedInputGuard, admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _confirm(
    request: HttpRequest, *, title: str, question: str, items: list[str], action: str = ""
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "admin/tokens/confirm.html",
        {
            **admin.site.each_context(request),
            "title": title,
            "question": question,
            "items": items,
            "action": action,
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        },
    )


def _what_breaks(key: SigningKey) -> str:
    """One line of the emergency-revoke confirmation: the key and what its revocation ends."""
    from tokens.internal import clock

    live = key.token_records.filter(revoked_at__isnull=True, expires_at__gt=clock.now()).count()
    signs = ""
    if key.state == SigningKey.State.CURRENT:
        signs = " It signs now: a fresh key takes over. " + _successor()
    return (
        f"{key.kid} ({key.state}): {live} unexpired token(s) it signed will be refused by "
        f"Authcore at once; verifiers holding a cached JWKS accept them until they refetch it."
        f"{signs}"
    )


def _successor() -> str:
    """Which key would sign after a forced step, and what cached-JWKS verifiers make of it."""
    if SigningKey.objects.filter(state=SigningKey.State.NEXT).exists():
        return (
            "The key published as next signs: verifiers that cached the JWKS already hold it. "
            "A fresh next key is published."
        )
    return (
        "No next key is published, so a brand-new key signs: verifiers holding a cached JWKS "
        "refuse its tokens until they refetch it."
    )


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    change_list_template = "admin/tokens/signingkey/change_list.html"
    list_display = (
        "kid",
        "state",
        "tokens_signed",
        "published_at",
        "activates_at",
        "activated_at",
        "deactivated_at",
        "retired_at",
        "revoked_at",
    )
    list_filter = ("state",)
    search_fields = ("kid",)
    fields = (
        "kid",
        "state",
        "created_at",
        "published_at",
        "activates_at",
        "activated_at",
        "deactivated_at",
        "retired_at",
        "revoked_at",
    )
    actions = ["emergency_revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SigningKey]:
        return (
            super()
            .get_queryset(request)
            .defer("private_key_encrypted")
            .annotate(signed=Count("token_records"))
        )

    @admin.display(description="tokens signed", ordering="signed")
    def tokens_signed(self, obj: Any) -> int:
        return int(getattr(obj, "signed", 0))

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "rotate-now/",
                self.admin_site.admin_view(self.rotate_now_view),
                name="tokens_signingkey_rotate_now",
            )
        ]
        return extra + super().get_urls()

    def rotate_now_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_superuser:
            return HttpResponse(status=403)
        changelist = reverse("admin:tokens_signingkey_changelist")
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            result = services.rotate_keys(now=True, actor=request.user)
            self.message_user(request, f"Key {result.activated[0]} signs from now on.")
            if result.unannounced:
                self.message_user(
                    request,
                    "No next key was published: consumers that cached the JWKS refuse its "
                    "tokens until they refetch it.",
                    messages.WARNING,
                )
            return HttpResponseRedirect(changelist)
        return _confirm(
            request,
            title="Rotate signing keys now",
            question="A new key will sign every token from now on. "
            + _successor()
            + " The current key stays published until nothing needs it.",
            items=[],
        )

    @admin.action(description="Emergency revoke selected keys")
    def emergency_revoke(self, request: HttpRequest, queryset: QuerySet[SigningKey]) -> Any:
        if not request.user.is_superuser:
            self.message_user(request, "Only superusers may revoke keys.", messages.ERROR)
            return None
        kids = list(queryset.values_list("kid", flat=True))
        if request.POST.get("confirm") != "yes":
            return _confirm(
                request,
                title="Emergency revoke",
                question="These keys leave the JWKS at once and every token they signed is "
                "refused. If one of them signs now, a fresh key takes over.",
                items=[_what_breaks(key) for key in queryset],
                action="emergency_revoke",
            )
        for kid in kids:
            result = services.revoke_key(kid=kid, actor=request.user)
            self.message_user(
                request,
                f"Revoked {kid}: {result.tokens_revoked} tokens refused from now on.",
                messages.WARNING,
            )
        return None


@admin.register(TokenRecord)
class TokenRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "jti",
        "user",
        "client_id",
        "kind",
        "signing_key_id",
        "issued_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("kind", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("jti", "user__username", "user__email", "client_id")
    list_select_related = ("user",)
    fields = list_display
    readonly_fields = list_display
    actions = ["revoke_selected"]

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[TokenRecord]) -> None:
        count = sum(
            services.revoke_token(jti=jti, actor=request.user)
            for jti in queryset.values_list("jti", flat=True)
        )
        self.message_user(request, f"{count} token(s) revoked.")

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        # The records are read-only, so the change permission means "may revoke" (issue 8).
        return bool(request.user.has_perm("tokens.change_tokenrecord"))
