from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.task_status import TaskStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.task_data_data import TaskDataData


T = TypeVar("T", bound="TaskData")


@_attrs_define
class TaskData:
    """
    Attributes:
        task_id (str):
        status (str | TaskStatus):
        action (str | Unset):
        progress (str | Unset): A percentage such as "30%".
        result_url (str | Unset): The video URL on success, usually on another host (valid about 24 h).
        fail_reason (str | Unset): The failure message (old data may carry the result URL here).
        submit_time (int | Unset):
        start_time (int | Unset):
        finish_time (int | Unset):
        quota (int | Unset): What the task was charged, in quota units (500,000 per USD); new-api's task record keeps
            it.
        data (TaskDataData | Unset): The raw upstream task (Seedance: video at `content.video_url`; DashScope: at
            `output.video_url`).
    """

    task_id: str
    status: str | TaskStatus
    action: str | Unset = UNSET
    progress: str | Unset = UNSET
    result_url: str | Unset = UNSET
    fail_reason: str | Unset = UNSET
    submit_time: int | Unset = UNSET
    start_time: int | Unset = UNSET
    finish_time: int | Unset = UNSET
    quota: int | Unset = UNSET
    data: TaskDataData | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        task_id = self.task_id

        status: str
        if isinstance(self.status, TaskStatus):
            status = self.status.value
        else:
            status = self.status

        action = self.action

        progress = self.progress

        result_url = self.result_url

        fail_reason = self.fail_reason

        submit_time = self.submit_time

        start_time = self.start_time

        finish_time = self.finish_time

        quota = self.quota

        data: dict[str, Any] | Unset = UNSET
        if not isinstance(self.data, Unset):
            data = self.data.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "task_id": task_id,
                "status": status,
            }
        )
        if action is not UNSET:
            field_dict["action"] = action
        if progress is not UNSET:
            field_dict["progress"] = progress
        if result_url is not UNSET:
            field_dict["result_url"] = result_url
        if fail_reason is not UNSET:
            field_dict["fail_reason"] = fail_reason
        if submit_time is not UNSET:
            field_dict["submit_time"] = submit_time
        if start_time is not UNSET:
            field_dict["start_time"] = start_time
        if finish_time is not UNSET:
            field_dict["finish_time"] = finish_time
        if quota is not UNSET:
            field_dict["quota"] = quota
        if data is not UNSET:
            field_dict["data"] = data

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.task_data_data import TaskDataData

        d = dict(src_dict)
        task_id = d.pop("task_id")

        def _parse_status(data: object) -> str | TaskStatus:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = TaskStatus(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(str | TaskStatus, data)

        status = _parse_status(d.pop("status"))

        action = d.pop("action", UNSET)

        progress = d.pop("progress", UNSET)

        result_url = d.pop("result_url", UNSET)

        fail_reason = d.pop("fail_reason", UNSET)

        submit_time = d.pop("submit_time", UNSET)

        start_time = d.pop("start_time", UNSET)

        finish_time = d.pop("finish_time", UNSET)

        quota = d.pop("quota", UNSET)

        _data = d.pop("data", UNSET)
        data: TaskDataData | Unset
        if isinstance(_data, Unset):
            data = UNSET
        else:
            data = TaskDataData.from_dict(_data)

        task_data = cls(
            task_id=task_id,
            status=status,
            action=action,
            progress=progress,
            result_url=result_url,
            fail_reason=fail_reason,
            submit_time=submit_time,
            start_time=start_time,
            finish_time=finish_time,
            quota=quota,
            data=data,
        )

        task_data.additional_properties = d
        return task_data

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
