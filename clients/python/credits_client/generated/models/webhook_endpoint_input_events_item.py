from enum import StrEnum


class WebhookEndpointInputEventsItem(StrEnum):
    JOB_CANCELED = "job.canceled"
    JOB_COMPLETED = "job.completed"
    JOB_FAILED = "job.failed"

    def __str__(self) -> str:
        return str(self.value)
