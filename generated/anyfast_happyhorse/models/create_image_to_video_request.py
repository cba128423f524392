from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.create_image_to_video_request_model import CreateImageToVideoRequestModel
from ..models.create_image_to_video_request_ratio import CreateImageToVideoRequestRatio
from ..models.create_image_to_video_request_resolution import CreateImageToVideoRequestResolution
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.create_image_to_video_request_parameters import (
        CreateImageToVideoRequestParameters,
    )


T = TypeVar("T", bound="CreateImageToVideoRequest")


@_attrs_define
class CreateImageToVideoRequest:
    """
    Attributes:
        model (CreateImageToVideoRequestModel): Model ID. Example: happyhorse-1.0-i2v.
        prompt (str): Text description of the desired motion.
        image (str): First-frame image URL (an http(s) URL or a data URL). Example: https://example.com/first-frame.png.
        images (list[str] | Unset): Array form of `image`; only the first item is used.
        resolution (CreateImageToVideoRequestResolution | Unset): Video resolution. Default:
            CreateImageToVideoRequestResolution.P1080.
        ratio (CreateImageToVideoRequestRatio | Unset): Aspect ratio. Default: CreateImageToVideoRequestRatio.R16_9.
        duration (int | Unset): Video duration in seconds. Default: 5.
        watermark (bool | Unset): Whether to add the bottom-right watermark. Default: True.
        seed (int | Unset): Random seed for reproducibility.
        parameters (CreateImageToVideoRequestParameters | Unset): Optional alternative location for the same parameters
            (DashScope-native style).
    """

    model: CreateImageToVideoRequestModel
    prompt: str
    image: str
    images: list[str] | Unset = UNSET
    resolution: CreateImageToVideoRequestResolution | Unset = (
        CreateImageToVideoRequestResolution.P1080
    )
    ratio: CreateImageToVideoRequestRatio | Unset = CreateImageToVideoRequestRatio.R16_9
    duration: int | Unset = 5
    watermark: bool | Unset = True
    seed: int | Unset = UNSET
    parameters: CreateImageToVideoRequestParameters | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model.value

        prompt = self.prompt

        image = self.image

        images: list[str] | Unset = UNSET
        if not isinstance(self.images, Unset):
            images = self.images

        resolution: str | Unset = UNSET
        if not isinstance(self.resolution, Unset):
            resolution = self.resolution.value

        ratio: str | Unset = UNSET
        if not isinstance(self.ratio, Unset):
            ratio = self.ratio.value

        duration = self.duration

        watermark = self.watermark

        seed = self.seed

        parameters: dict[str, Any] | Unset = UNSET
        if not isinstance(self.parameters, Unset):
            parameters = self.parameters.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "prompt": prompt,
                "image": image,
            }
        )
        if images is not UNSET:
            field_dict["images"] = images
        if resolution is not UNSET:
            field_dict["resolution"] = resolution
        if ratio is not UNSET:
            field_dict["ratio"] = ratio
        if duration is not UNSET:
            field_dict["duration"] = duration
        if watermark is not UNSET:
            field_dict["watermark"] = watermark
        if seed is not UNSET:
            field_dict["seed"] = seed
        if parameters is not UNSET:
            field_dict["parameters"] = parameters

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.create_image_to_video_request_parameters import (
            CreateImageToVideoRequestParameters,
        )

        d = dict(src_dict)
        model = CreateImageToVideoRequestModel(d.pop("model"))

        prompt = d.pop("prompt")

        image = d.pop("image")

        images = cast(list[str], d.pop("images", UNSET))

        _resolution = d.pop("resolution", UNSET)
        resolution: CreateImageToVideoRequestResolution | Unset
        if isinstance(_resolution, Unset):
            resolution = UNSET
        else:
            resolution = CreateImageToVideoRequestResolution(_resolution)

        _ratio = d.pop("ratio", UNSET)
        ratio: CreateImageToVideoRequestRatio | Unset
        if isinstance(_ratio, Unset):
            ratio = UNSET
        else:
            ratio = CreateImageToVideoRequestRatio(_ratio)

        duration = d.pop("duration", UNSET)

        watermark = d.pop("watermark", UNSET)

        seed = d.pop("seed", UNSET)

        _parameters = d.pop("parameters", UNSET)
        parameters: CreateImageToVideoRequestParameters | Unset
        if isinstance(_parameters, Unset):
            parameters = UNSET
        else:
            parameters = CreateImageToVideoRequestParameters.from_dict(_parameters)

        create_image_to_video_request = cls(
            model=model,
            prompt=prompt,
            image=image,
            images=images,
            resolution=resolution,
            ratio=ratio,
            duration=duration,
            watermark=watermark,
            seed=seed,
            parameters=parameters,
        )

        create_image_to_video_request.additional_properties = d
        return create_image_to_video_request

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
