"""Routes of the clients app (API.md "Client service")."""

from django.urls import URLPattern, URLResolver, path

from clients.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/clients", views.ClientCreateView.as_view(), name="client-create"),
    path(
        "api/clients/<str:client_id>/rotate-key",
        views.ClientRotateKeyView.as_view(),
        name="client-rotate-key",
    ),
    path("api/users", views.UserCreateView.as_view(), name="client-user-create"),
    path("api/tokens", views.TokenCreateView.as_view(), name="token-create"),
    path("api/tokens/introspect", views.TokenIntrospectView.as_view(), name="token-introspect"),
    path("api/tokens/revoke", views.TokenRevokeView.as_view(), name="token-revoke"),
    path("api/tokens/<str:jti>", views.TokenDeleteView.as_view(), name="token-delete"),
    path("api/me", views.MeView.as_view(), name="me"),
]
