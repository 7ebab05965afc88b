from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_status import JobStatus

T = TypeVar("T", bound="JobCallbackAnswer")


@_attrs_define
class JobCallbackAnswer:
    """
    Attributes:
        job_id (str):
        accepted (bool):
        status (JobStatus): A job's state: queued and running move on; completed, failed and canceled are terminal
            (listed
            under `x-terminal`, where the clients' `wait` learns when to stop polling).
    """

    job_id: str
    accepted: bool
    status: JobStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        job_id = self.job_id

        accepted = self.accepted

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job_id": job_id,
                "accepted": accepted,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        job_id = d.pop("job_id")

        accepted = d.pop("accepted")

        status = JobStatus(d.pop("status"))

        job_callback_answer = cls(
            job_id=job_id,
            accepted=accepted,
            status=status,
        )

        job_callback_answer.additional_properties = d
        return job_callback_answer

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
