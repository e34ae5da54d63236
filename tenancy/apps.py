from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        # Connects the receivers that log two-factor changes.
        from tenancy import accounts  # noqa: F401
