from enum import StrEnum


class WebhookEndpointStatus(StrEnum):
    DISABLED = "disabled"
    FAILING = "failing"
    HEALTHY = "healthy"

    def __str__(self) -> str:
        return str(self.value)
