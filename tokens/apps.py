from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from authcore import front_door
        from authcore.store import on_recovery
        from tokens import receivers
        from tokens.api import views
        from tokens.internal import state_cache
        from tokens.services import check_record_columns

        receivers.connect()
        check_record_columns()
        front_door.register("jwks", views.jwks_answer)
        front_door.register("openid-config", views.openid_configuration_answer)
        on_recovery("tokens.cache_epoch", state_cache.renew_epoch)
