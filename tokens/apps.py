from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from authcore.store import on_recovery
        from tokens import receivers
        from tokens.internal import state_cache

        receivers.connect()
        on_recovery("tokens.cache_epoch", state_cache.renew_epoch)
