from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.video_status import VideoStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.video_error import VideoError
    from ..models.video_metadata import VideoMetadata


T = TypeVar("T", bound="Video")


@_attrs_define
class Video:
    """A video task. Unknown extra fields are kept.

    Attributes:
        id (str):
        object_ (str):
        model (str):
        status (str | VideoStatus):
        progress (int):
        created_at (int): Creation time (the document's example is in milliseconds).
        completed_at (int | None | Unset):
        expires_at (int | None | Unset):
        prompt (None | str | Unset):
        remixed_from_video_id (None | str | Unset):
        error (None | Unset | VideoError):
        task_id (str | Unset): Legacy compatibility; to be deprecated.
        metadata (VideoMetadata | Unset): Free-form; new-api puts the final video URL in `metadata.url`.
        video_url (str | Unset):
        seconds (str | Unset):
        size (str | Unset):
    """

    id: str
    object_: str
    model: str
    status: str | VideoStatus
    progress: int
    created_at: int
    completed_at: int | None | Unset = UNSET
    expires_at: int | None | Unset = UNSET
    prompt: None | str | Unset = UNSET
    remixed_from_video_id: None | str | Unset = UNSET
    error: None | Unset | VideoError = UNSET
    task_id: str | Unset = UNSET
    metadata: VideoMetadata | Unset = UNSET
    video_url: str | Unset = UNSET
    seconds: str | Unset = UNSET
    size: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.video_error import VideoError

        id = self.id

        object_ = self.object_

        model = self.model

        status: str
        if isinstance(self.status, VideoStatus):
            status = self.status.value
        else:
            status = self.status

        progress = self.progress

        created_at = self.created_at

        completed_at: int | None | Unset
        if isinstance(self.completed_at, Unset):
            completed_at = UNSET
        else:
            completed_at = self.completed_at

        expires_at: int | None | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = self.expires_at

        prompt: None | str | Unset
        if isinstance(self.prompt, Unset):
            prompt = UNSET
        else:
            prompt = self.prompt

        remixed_from_video_id: None | str | Unset
        if isinstance(self.remixed_from_video_id, Unset):
            remixed_from_video_id = UNSET
        else:
            remixed_from_video_id = self.remixed_from_video_id

        error: dict[str, Any] | None | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        elif isinstance(self.error, VideoError):
            error = self.error.to_dict()
        else:
            error = self.error

        task_id = self.task_id

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        video_url = self.video_url

        seconds = self.seconds

        size = self.size

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "object": object_,
                "model": model,
                "status": status,
                "progress": progress,
                "created_at": created_at,
            }
        )
        if completed_at is not UNSET:
            field_dict["completed_at"] = completed_at
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if prompt is not UNSET:
            field_dict["prompt"] = prompt
        if remixed_from_video_id is not UNSET:
            field_dict["remixed_from_video_id"] = remixed_from_video_id
        if error is not UNSET:
            field_dict["error"] = error
        if task_id is not UNSET:
            field_dict["task_id"] = task_id
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if video_url is not UNSET:
            field_dict["video_url"] = video_url
        if seconds is not UNSET:
            field_dict["seconds"] = seconds
        if size is not UNSET:
            field_dict["size"] = size

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.video_error import VideoError
        from ..models.video_metadata import VideoMetadata

        d = dict(src_dict)
        id = d.pop("id")

        object_ = d.pop("object")

        model = d.pop("model")

        def _parse_status(data: object) -> str | VideoStatus:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = VideoStatus(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(str | VideoStatus, data)

        status = _parse_status(d.pop("status"))

        progress = d.pop("progress")

        created_at = d.pop("created_at")

        def _parse_completed_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        completed_at = _parse_completed_at(d.pop("completed_at", UNSET))

        def _parse_expires_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        expires_at = _parse_expires_at(d.pop("expires_at", UNSET))

        def _parse_prompt(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        prompt = _parse_prompt(d.pop("prompt", UNSET))

        def _parse_remixed_from_video_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        remixed_from_video_id = _parse_remixed_from_video_id(d.pop("remixed_from_video_id", UNSET))

        def _parse_error(data: object) -> None | Unset | VideoError:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_0 = VideoError.from_dict(data)

                return error_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | VideoError, data)

        error = _parse_error(d.pop("error", UNSET))

        task_id = d.pop("task_id", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: VideoMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = VideoMetadata.from_dict(_metadata)

        video_url = d.pop("video_url", UNSET)

        seconds = d.pop("seconds", UNSET)

        size = d.pop("size", UNSET)

        video = cls(
            id=id,
            object_=object_,
            model=model,
            status=status,
            progress=progress,
            created_at=created_at,
            completed_at=completed_at,
            expires_at=expires_at,
            prompt=prompt,
            remixed_from_video_id=remixed_from_video_id,
            error=error,
            task_id=task_id,
            metadata=metadata,
            video_url=video_url,
            seconds=seconds,
            size=size,
        )

        video.additional_properties = d
        return video

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
