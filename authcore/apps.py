from django.apps import AppConfig


class AuthcoreConfig(AppConfig):
    name = "authcore"
    verbose_name = "Authcore"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from authcore import front_door, health, metrics, request_signals

        metrics.register_all()
        front_door.register("healthz", health.alive)
        request_signals.connect_needed()
