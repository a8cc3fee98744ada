from django.apps import AppConfig


class AuthcoreConfig(AppConfig):
    name = "authcore"
    verbose_name = "Authcore"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from authcore import metrics

        metrics.register_all()
