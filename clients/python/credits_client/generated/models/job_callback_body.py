from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.callback_error import CallbackError
    from ..models.callback_progress import CallbackProgress
    from ..models.callback_usage import CallbackUsage
    from ..models.job_callback_body_result import JobCallbackBodyResult


T = TypeVar("T", bound="JobCallbackBody")


@_attrs_define
class JobCallbackBody:
    """Exactly one of: `result` (with `usage` for a metered type), `error` (with `retryable`), `progress`.

    Attributes:
        result (JobCallbackBodyResult | None | Unset):
        usage (CallbackUsage | None | Unset):
        error (CallbackError | None | Unset):
        retryable (bool | None | Unset):
        progress (CallbackProgress | None | Unset):
    """

    result: JobCallbackBodyResult | Unset | None = UNSET
    usage: CallbackUsage | Unset | None = UNSET
    error: CallbackError | Unset | None = UNSET
    retryable: bool | Unset | None = UNSET
    progress: CallbackProgress | Unset | None = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.callback_error import CallbackError
        from ..models.callback_progress import CallbackProgress
        from ..models.callback_usage import CallbackUsage
        from ..models.job_callback_body_result import JobCallbackBodyResult

        result: dict[str, Any] | Unset | None
        if isinstance(self.result, Unset):
            result = UNSET
        elif isinstance(self.result, JobCallbackBodyResult):
            result = self.result.to_dict()
        else:
            result = self.result

        usage: dict[str, Any] | Unset | None
        if isinstance(self.usage, Unset):
            usage = UNSET
        elif isinstance(self.usage, CallbackUsage):
            usage = self.usage.to_dict()
        else:
            usage = self.usage

        error: dict[str, Any] | Unset | None
        if isinstance(self.error, Unset):
            error = UNSET
        elif isinstance(self.error, CallbackError):
            error = self.error.to_dict()
        else:
            error = self.error

        retryable: bool | Unset | None
        if isinstance(self.retryable, Unset):
            retryable = UNSET
        else:
            retryable = self.retryable

        progress: dict[str, Any] | Unset | None
        if isinstance(self.progress, Unset):
            progress = UNSET
        elif isinstance(self.progress, CallbackProgress):
            progress = self.progress.to_dict()
        else:
            progress = self.progress

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if result is not UNSET:
            field_dict["result"] = result
        if usage is not UNSET:
            field_dict["usage"] = usage
        if error is not UNSET:
            field_dict["error"] = error
        if retryable is not UNSET:
            field_dict["retryable"] = retryable
        if progress is not UNSET:
            field_dict["progress"] = progress

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.callback_error import CallbackError
        from ..models.callback_progress import CallbackProgress
        from ..models.callback_usage import CallbackUsage
        from ..models.job_callback_body_result import JobCallbackBodyResult

        d = dict(src_dict)

        def _parse_result(data: object) -> JobCallbackBodyResult | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = JobCallbackBodyResult.from_dict(data)

                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobCallbackBodyResult | None | Unset, data)

        result = _parse_result(d.pop("result", UNSET))

        def _parse_usage(data: object) -> CallbackUsage | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                usage_type_0 = CallbackUsage.from_dict(data)

                return usage_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CallbackUsage | None | Unset, data)

        usage = _parse_usage(d.pop("usage", UNSET))

        def _parse_error(data: object) -> CallbackError | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_0 = CallbackError.from_dict(data)

                return error_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CallbackError | None | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_retryable(data: object) -> bool | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        retryable = _parse_retryable(d.pop("retryable", UNSET))

        def _parse_progress(data: object) -> CallbackProgress | Unset | None:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                progress_type_0 = CallbackProgress.from_dict(data)

                return progress_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CallbackProgress | None | Unset, data)

        progress = _parse_progress(d.pop("progress", UNSET))

        job_callback_body = cls(
            result=result,
            usage=usage,
            error=error,
            retryable=retryable,
            progress=progress,
        )

        job_callback_body.additional_properties = d
        return job_callback_body

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
