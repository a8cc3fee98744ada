"""Routes of the tokens app."""

from django.urls import URLPattern, URLResolver, path

from tokens.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path(".well-known/openid-configuration", views.openid_configuration, name="openid-config"),
]
