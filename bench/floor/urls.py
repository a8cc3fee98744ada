from django.urls import path

from bench.floor import views

urlpatterns = [
    path("bare", views.bare),
    path("headers", views.headers_floor),
    path("document", views.document_floor),
    path("pk", views.primary_key_select),
    path("redis", views.redis_get),
    path("limited", views.limited_floor),
    path("physical", views.physical_floor),
    path("issue", views.issue_floor),
    path("session", views.session_floor),
    path("passkey", views.passkey_floor),
]
