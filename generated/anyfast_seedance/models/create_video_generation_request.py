from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.create_video_generation_request_model import CreateVideoGenerationRequestModel
from ..models.create_video_generation_request_ratio import CreateVideoGenerationRequestRatio
from ..models.create_video_generation_request_resolution import (
    CreateVideoGenerationRequestResolution,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.content_item import ContentItem
    from ..models.tool import Tool


T = TypeVar("T", bound="CreateVideoGenerationRequest")


@_attrs_define
class CreateVideoGenerationRequest:
    """
    Attributes:
        model (CreateVideoGenerationRequestModel): Model ID Example: seedance-fast.
        content (list[ContentItem]): Input content: text only, or text (optional) with images, videos and audio in the
            combinations the model supports.
        generate_audio (bool | Unset): Generate synchronized audio with the video. Default: True.
        resolution (CreateVideoGenerationRequestResolution | Unset): Output video resolution. Default:
            CreateVideoGenerationRequestResolution.P720.
        ratio (CreateVideoGenerationRequestRatio | Unset): Output aspect ratio; adaptive selects the best ratio for the
            input. Default: CreateVideoGenerationRequestRatio.ADAPTIVE.
        duration (int | Unset): Duration in seconds (4 to 15), or -1 for automatic selection by the model. Default: 5.
        tools (list[Tool] | Unset): Tools for the model to use (web search, text-to-video only).
        watermark (bool | Unset): Add watermark to the generated video. Default: False.
    """

    model: CreateVideoGenerationRequestModel
    content: list[ContentItem]
    generate_audio: bool | Unset = True
    resolution: CreateVideoGenerationRequestResolution | Unset = (
        CreateVideoGenerationRequestResolution.P720
    )
    ratio: CreateVideoGenerationRequestRatio | Unset = CreateVideoGenerationRequestRatio.ADAPTIVE
    duration: int | Unset = 5
    tools: list[Tool] | Unset = UNSET
    watermark: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model.value

        content = []
        for content_item_data in self.content:
            content_item = content_item_data.to_dict()
            content.append(content_item)

        generate_audio = self.generate_audio

        resolution: str | Unset = UNSET
        if not isinstance(self.resolution, Unset):
            resolution = self.resolution.value

        ratio: str | Unset = UNSET
        if not isinstance(self.ratio, Unset):
            ratio = self.ratio.value

        duration = self.duration

        tools: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.tools, Unset):
            tools = []
            for tools_item_data in self.tools:
                tools_item = tools_item_data.to_dict()
                tools.append(tools_item)

        watermark = self.watermark

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "content": content,
            }
        )
        if generate_audio is not UNSET:
            field_dict["generate_audio"] = generate_audio
        if resolution is not UNSET:
            field_dict["resolution"] = resolution
        if ratio is not UNSET:
            field_dict["ratio"] = ratio
        if duration is not UNSET:
            field_dict["duration"] = duration
        if tools is not UNSET:
            field_dict["tools"] = tools
        if watermark is not UNSET:
            field_dict["watermark"] = watermark

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.content_item import ContentItem
        from ..models.tool import Tool

        d = dict(src_dict)
        model = CreateVideoGenerationRequestModel(d.pop("model"))

        content = []
        _content = d.pop("content")
        for content_item_data in _content:
            content_item = ContentItem.from_dict(content_item_data)

            content.append(content_item)

        generate_audio = d.pop("generate_audio", UNSET)

        _resolution = d.pop("resolution", UNSET)
        resolution: CreateVideoGenerationRequestResolution | Unset
        if isinstance(_resolution, Unset):
            resolution = UNSET
        else:
            resolution = CreateVideoGenerationRequestResolution(_resolution)

        _ratio = d.pop("ratio", UNSET)
        ratio: CreateVideoGenerationRequestRatio | Unset
        if isinstance(_ratio, Unset):
            ratio = UNSET
        else:
            ratio = CreateVideoGenerationRequestRatio(_ratio)

        duration = d.pop("duration", UNSET)

        _tools = d.pop("tools", UNSET)
        tools: list[Tool] | Unset = UNSET
        if _tools is not UNSET:
            tools = []
            for tools_item_data in _tools:
                tools_item = Tool.from_dict(tools_item_data)

                tools.append(tools_item)

        watermark = d.pop("watermark", UNSET)

        create_video_generation_request = cls(
            model=model,
            content=content,
            generate_audio=generate_audio,
            resolution=resolution,
            ratio=ratio,
            duration=duration,
            tools=tools,
            watermark=watermark,
        )

        create_video_generation_request.additional_properties = d
        return create_video_generation_request

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
