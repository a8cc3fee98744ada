from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from authcore.rate_limits import register_read_ahead
        from clients.read_ahead import TOKEN_EXCHANGE_PATH, token_exchange_names

        register_read_ahead("POST", TOKEN_EXCHANGE_PATH, token_exchange_names)
