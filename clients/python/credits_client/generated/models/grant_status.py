from enum import StrEnum


class GrantStatus(StrEnum):
    ACTIVE = "active"
    DEPLETED = "depleted"
    EXPIRED = "expired"
    VOIDED = "voided"

    def __str__(self) -> str:
        return str(self.value)
