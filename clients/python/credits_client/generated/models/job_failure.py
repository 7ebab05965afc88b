from enum import StrEnum
from typing import Any


class JobFailure(StrEnum):
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    EXPIRED = "expired"
    WORKER_ERROR = "worker_error"

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
