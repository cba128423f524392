from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..types import UNSET, File, FileTypes, Unset

T = TypeVar("T", bound="CreateVideoMultipartRequest")


@_attrs_define
class CreateVideoMultipartRequest:
    """
    Attributes:
        model (str): Video model ID to use.
        prompt (str): Text prompt describing the target video.
        size (str | Unset): Output size such as 1280x720 or 720x1280.
        seconds (str | Unset): Target video duration in seconds.
        input_reference (File | Unset): Reference image file used as input for image-guided generation.
        stream (bool | Unset): Optional flag if supported by the selected model or upstream.
    """

    model: str
    prompt: str
    size: str | Unset = UNSET
    seconds: str | Unset = UNSET
    input_reference: File | Unset = UNSET
    stream: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        prompt = self.prompt

        size = self.size

        seconds = self.seconds

        input_reference: FileTypes | Unset = UNSET
        if not isinstance(self.input_reference, Unset):
            input_reference = self.input_reference.to_tuple()

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
        if input_reference is not UNSET:
            field_dict["input_reference"] = input_reference
        if stream is not UNSET:
            field_dict["stream"] = stream

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("model", (None, str(self.model).encode(), "text/plain")))

        files.append(("prompt", (None, str(self.prompt).encode(), "text/plain")))

        if not isinstance(self.size, Unset):
            files.append(("size", (None, str(self.size).encode(), "text/plain")))

        if not isinstance(self.seconds, Unset):
            files.append(("seconds", (None, str(self.seconds).encode(), "text/plain")))

        if not isinstance(self.input_reference, Unset):
            files.append(("input_reference", self.input_reference.to_tuple()))

        if not isinstance(self.stream, Unset):
            files.append(("stream", (None, str(self.stream).encode(), "text/plain")))

        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        model = d.pop("model")

        prompt = d.pop("prompt")

        size = d.pop("size", UNSET)

        seconds = d.pop("seconds", UNSET)

        _input_reference = d.pop("input_reference", UNSET)
        input_reference: File | Unset
        if isinstance(_input_reference, Unset):
            input_reference = UNSET
        else:
            input_reference = File(payload=BytesIO(_input_reference))

        stream = d.pop("stream", UNSET)

        create_video_multipart_request = cls(
            model=model,
            prompt=prompt,
            size=size,
            seconds=seconds,
            input_reference=input_reference,
            stream=stream,
        )

        create_video_multipart_request.additional_properties = d
        return create_video_multipart_request

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
