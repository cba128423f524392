from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateVideoJsonRequest")


@_attrs_define
class CreateVideoJsonRequest:
    """
    Attributes:
        model (str): Video model ID to use.
        prompt (str): Text prompt describing the target video.
        size (str | Unset): Output size such as 1280x720 or 720x1280.
        seconds (int | str | Unset): Target video duration in seconds.
        stream (bool | Unset): Optional flag if supported by the selected model or upstream.
    """

    model: str
    prompt: str
    size: str | Unset = UNSET
    seconds: int | str | Unset = UNSET
    stream: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        prompt = self.prompt

        size = self.size

        seconds: int | str | Unset
        if isinstance(self.seconds, Unset):
            seconds = UNSET
        else:
            seconds = self.seconds

        stream = self.stream

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "prompt": prompt,
            }
        )
        if size is not UNSET:
            field_dict["size"] = size
        if seconds is not UNSET:
            field_dict["seconds"] = seconds
        if stream is not UNSET:
            field_dict["stream"] = stream

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        model = d.pop("model")

        prompt = d.pop("prompt")

        size = d.pop("size", UNSET)

        def _parse_seconds(data: object) -> int | str | Unset:
            if isinstance(data, Unset):
                return data
            return cast(int | str | Unset, data)

        seconds = _parse_seconds(d.pop("seconds", UNSET))

        stream = d.pop("stream", UNSET)

        create_video_json_request = cls(
            model=model,
            prompt=prompt,
            size=size,
            seconds=seconds,
            stream=stream,
        )

        create_video_json_request.additional_properties = d
        return create_video_json_request

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
