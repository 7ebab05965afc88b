from enum import StrEnum


class JobFailure(StrEnum):
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    EXPIRED = "expired"
    WORKER_ERROR = "worker_error"

    def __str__(self) -> str:
        return str(self.value)
