from enum import StrEnum


class PurchaseStatus(StrEnum):
    CANCELED = "canceled"
    DISPUTED = "disputed"
    DISPUTED_LOST = "disputed_lost"
    FAILED = "failed"
    PENDING = "pending"
    PROCESSING = "processing"
    REFUNDED = "refunded"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
