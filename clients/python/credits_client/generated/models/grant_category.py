from enum import StrEnum


class GrantCategory(StrEnum):
    PAID = "paid"
    PROMOTIONAL = "promotional"

    def __str__(self) -> str:
        return str(self.value)
