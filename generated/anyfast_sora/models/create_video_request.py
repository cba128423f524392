from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..models.create_video_request_model import CreateVideoRequestModel
from ..models.create_video_request_seconds import CreateVideoRequestSeconds
from ..models.create_video_request_size import CreateVideoRequestSize
from ..types import UNSET, File, FileTypes, Unset

T = TypeVar("T", bound="CreateVideoRequest")


@_attrs_define
class CreateVideoRequest:
    """
    Attributes:
        model (CreateVideoRequestModel): Video generation model ID. Example: sora-2.
        prompt (str): Natural language description of the video. Example: A cat walking through a sunflower field at
            golden sunset.
        seconds (CreateVideoRequestSeconds | Unset): Video duration in seconds. Default: CreateVideoRequestSeconds.S4.
        size (CreateVideoRequestSize | Unset): Output resolution in width x height format. Default:
            CreateVideoRequestSize.W720_H1280.
        input_reference (File | Unset): Optional reference image used as the first frame (image/jpeg, image/png,
            image/webp).
        remix_video_id (str | Unset): ID of a previously completed video whose structure, motion and framing to reuse.
            Example: video_69b131ea03548190925a6a06febf993b.
    """

    model: CreateVideoRequestModel
    prompt: str
    seconds: CreateVideoRequestSeconds | Unset = CreateVideoRequestSeconds.S4
    size: CreateVideoRequestSize | Unset = CreateVideoRequestSize.W720_H1280
    input_reference: File | Unset = UNSET
    remix_video_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model.value

        prompt = self.prompt

        seconds: str | Unset = UNSET
        if not isinstance(self.seconds, Unset):
            seconds = self.seconds.value

        size: str | Unset = UNSET
        if not isinstance(self.size, Unset):
            size = self.size.value

        input_reference: FileTypes | Unset = UNSET
        if not isinstance(self.input_reference, Unset):
            input_reference = self.input_reference.to_tuple()

        remix_video_id = self.remix_video_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "prompt": prompt,
            }
        )
        if seconds is not UNSET:
            field_dict["seconds"] = seconds
        if size is not UNSET:
            field_dict["size"] = size
        if input_reference is not UNSET:
            field_dict["input_reference"] = input_reference
        if remix_video_id is not UNSET:
            field_dict["remix_video_id"] = remix_video_id

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("model", (None, str(self.model.value).encode(), "text/plain")))

        files.append(("prompt", (None, str(self.prompt).encode(), "text/plain")))

        if not isinstance(self.seconds, Unset):
            files.append(("seconds", (None, str(self.seconds.value).encode(), "text/plain")))

        if not isinstance(self.size, Unset):
            files.append(("size", (None, str(self.size.value).encode(), "text/plain")))

        if not isinstance(self.input_reference, Unset):
            files.append(("input_reference", self.input_reference.to_tuple()))

        if not isinstance(self.remix_video_id, Unset):
            files.append(
                ("remix_video_id", (None, str(self.remix_video_id).encode(), "text/plain"))
            )

        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        model = CreateVideoRequestModel(d.pop("model"))

        prompt = d.pop("prompt")

        _seconds = d.pop("seconds", UNSET)
        seconds: CreateVideoRequestSeconds | Unset
        if isinstance(_seconds, Unset):
            seconds = UNSET
        else:
            seconds = CreateVideoRequestSeconds(_seconds)

        _size = d.pop("size", UNSET)
        size: CreateVideoRequestSize | Unset
        if isinstance(_size, Unset):
            size = UNSET
        else:
            size = CreateVideoRequestSize(_size)

        _input_reference = d.pop("input_reference", UNSET)
        input_reference: File | Unset
        if isinstance(_input_reference, Unset):
            input_reference = UNSET
        else:
            input_reference = File(payload=BytesIO(_input_reference))

        remix_video_id = d.pop("remix_video_id", UNSET)

        create_video_request = cls(
            model=model,
            prompt=prompt,
            seconds=seconds,
            size=size,
            input_reference=input_reference,
            remix_video_id=remix_video_id,
        )

        create_video_request.additional_properties = d
        return create_video_request

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
