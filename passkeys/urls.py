"""Routes of the passkeys app (API.md "Passkeys (WebAuthn)") and the demo page."""

from django.urls import URLPattern, URLResolver, path

from passkeys import views
from passkeys.api import views as api

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.demo_page, name="demo"),
    path(
        "api/auth/passkey/register/options",
        api.RegistrationOptionsView.as_view(),
        name="passkey-register-options",
    ),
    path(
        "api/auth/passkey/register/verify",
        api.RegistrationVerifyView.as_view(),
        name="passkey-register-verify",
    ),
    path(
        "api/auth/passkey/login/options",
        api.AuthenticationOptionsView.as_view(),
        name="passkey-login-options",
    ),
    path(
        "api/auth/passkey/login/verify",
        api.AuthenticationVerifyView.as_view(),
        name="passkey-login-verify",
    ),
    path("api/passkeys", api.PasskeyListView.as_view(), name="passkey-list"),
    path("api/passkeys/<str:passkey_id>", api.PasskeyDetailView.as_view(), name="passkey-detail"),
    path("api/auth/email/start", api.EmailStartView.as_view(), name="email-start"),
    path("api/auth/email/verify", api.EmailVerifyView.as_view(), name="email-verify"),
]
