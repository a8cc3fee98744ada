from django.urls import path
from rest_framework_simplejwt.views import TokenObtainPairView

from bench.simplejwt.views import MeView

urlpatterns = [
    path("api/token", TokenObtainPairView.as_view()),
    path("api/me", MeView.as_view()),
]
