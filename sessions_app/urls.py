"""Routes of the sessions app (API.md "Browser sessions (OIDC BFF)")."""

from django.urls import URLPattern, URLResolver, path

from sessions_app import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/web/login", views.LoginView.as_view(), name="web-login"),
    path("auth/web/callback", views.CallbackView.as_view(), name="web-callback"),
    path("auth/web/token", views.TokenView.as_view(), name="web-token"),
    path("auth/web/me", views.MeView.as_view(), name="web-me"),
    path("auth/web/logout", views.LogoutView.as_view(), name="web-logout"),
    path("auth/web/refresh", views.RefreshView.as_view(), name="web-refresh"),
    path("auth/web/sessions", views.SessionListView.as_view(), name="web-sessions"),
    path(
        "auth/web/sessions/<str:session_id>",
        views.SessionDetailView.as_view(),
        name="web-session-detail",
    ),
]
