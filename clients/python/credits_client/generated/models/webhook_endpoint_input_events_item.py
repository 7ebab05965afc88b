from enum import StrEnum
from typing import Any


class WebhookEndpointInputEventsItem(StrEnum):
    AUTO_TOP_UP_FAILED = "auto_top_up.failed"
    AUTO_TOP_UP_SUCCEEDED = "auto_top_up.succeeded"
    CREDITS_LOW = "credits.low"
    CREDIT_GRANT_EXPIRING = "credit_grant.expiring"
    JOB_CANCELED = "job.canceled"
    JOB_COMPLETED = "job.completed"
    JOB_FAILED = "job.failed"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> Any:
        """A value a newer server sends that this client does not list: kept (its own member, not a
        ValueError), so that answers carrying it still parse."""
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return cls._value2member_map_.setdefault(value, member)
