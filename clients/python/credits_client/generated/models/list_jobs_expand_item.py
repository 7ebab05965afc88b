from enum import StrEnum


class ListJobsExpandItem(StrEnum):
    DATA_INPUT = "data.input"
    DATA_RESULT = "data.result"

    def __str__(self) -> str:
        return str(self.value)
