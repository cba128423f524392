from __future__ import annotations

import json
from collections.abc import Mapping
from io import BytesIO
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..models.create_video_request_model import CreateVideoRequestModel
from ..types import UNSET, File, FileTypes, Unset

if TYPE_CHECKING:
    from ..models.create_video_request_content_item import CreateVideoRequestContentItem
    from ..models.create_video_request_metadata import CreateVideoRequestMetadata
    from ..models.create_video_request_parameters import CreateVideoRequestParameters


T = TypeVar("T", bound="CreateVideoRequest")


@_attrs_define
class CreateVideoRequest:
    """
    Attributes:
        model (CreateVideoRequestModel): External model name. Example: sora-2.
        prompt (str): Unified prompt entry point. Required for most models.
        image (File | Unset): Single image entry point; mapped to images in some compatibility modes.
        duration (int | Unset): Unified duration parameter. Some models also accept seconds.
        width (int | Unset): Video width Example: 512.
        height (int | Unset): Video height Example: 512.
        fps (int | Unset): Video frame rate Example: 30.
        seed (int | Unset): Random seed Example: 20231234.
        n (int | Unset): Number of videos to generate Example: 1.
        response_format (str | Unset): Response format Example: url.
        user (str | Unset): User identifier Example: user-1234.
        metadata (CreateVideoRequestMetadata | Unset): Dynamic extension field container for model-specific fields.
        mode (str | Unset): Optional video generation mode (gemini-omni supports t2v, r2v and edit).
        images (list[str] | Unset): Unified multi-image entry point (Vidu, Seedance, Veo, ...).
        content (list[CreateVideoRequestContentItem] | Unset):
        size (str | Unset): Unified size input, mapped to resolution/aspect ratio fields.
        seconds (str | Unset): Sora compatibility entry point; falls back to duration at runtime.
        input_reference (str | Unset): Sora/Veo compatible reference image input.
        parameters (CreateVideoRequestParameters | Unset):
    """

    model: CreateVideoRequestModel
    prompt: str
    image: File | Unset = UNSET
    duration: int | Unset = UNSET
    width: int | Unset = UNSET
    height: int | Unset = UNSET
    fps: int | Unset = UNSET
    seed: int | Unset = UNSET
    n: int | Unset = UNSET
    response_format: str | Unset = UNSET
    user: str | Unset = UNSET
    metadata: CreateVideoRequestMetadata | Unset = UNSET
    mode: str | Unset = UNSET
    images: list[str] | Unset = UNSET
    content: list[CreateVideoRequestContentItem] | Unset = UNSET
    size: str | Unset = UNSET
    seconds: str | Unset = UNSET
    input_reference: str | Unset = UNSET
    parameters: CreateVideoRequestParameters | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model.value

        prompt = self.prompt

        image: FileTypes | Unset = UNSET
        if not isinstance(self.image, Unset):
            image = self.image.to_tuple()

        duration = self.duration

        width = self.width

        height = self.height

        fps = self.fps

        seed = self.seed

        n = self.n

        response_format = self.response_format

        user = self.user

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        mode = self.mode

        images: list[str] | Unset = UNSET
        if not isinstance(self.images, Unset):
            images = self.images

        content: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.content, Unset):
            content = []
            for content_item_data in self.content:
                content_item = content_item_data.to_dict()
                content.append(content_item)

        size = self.size

        seconds = self.seconds

        input_reference = self.input_reference

        parameters: dict[str, Any] | Unset = UNSET
        if not isinstance(self.parameters, Unset):
            parameters = self.parameters.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "prompt": prompt,
            }
        )
        if image is not UNSET:
            field_dict["image"] = image
        if duration is not UNSET:
            field_dict["duration"] = duration
        if width is not UNSET:
            field_dict["width"] = width
        if height is not UNSET:
            field_dict["height"] = height
        if fps is not UNSET:
            field_dict["fps"] = fps
        if seed is not UNSET:
            field_dict["seed"] = seed
        if n is not UNSET:
            field_dict["n"] = n
        if response_format is not UNSET:
            field_dict["response_format"] = response_format
        if user is not UNSET:
            field_dict["user"] = user
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if mode is not UNSET:
            field_dict["mode"] = mode
        if images is not UNSET:
            field_dict["images"] = images
        if content is not UNSET:
            field_dict["content"] = content
        if size is not UNSET:
            field_dict["size"] = size
        if seconds is not UNSET:
            field_dict["seconds"] = seconds
        if input_reference is not UNSET:
            field_dict["input_reference"] = input_reference
        if parameters is not UNSET:
            field_dict["parameters"] = parameters

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("model", (None, str(self.model.value).encode(), "text/plain")))

        files.append(("prompt", (None, str(self.prompt).encode(), "text/plain")))

        if not isinstance(self.image, Unset):
            files.append(("image", self.image.to_tuple()))

        if not isinstance(self.duration, Unset):
            files.append(("duration", (None, str(self.duration).encode(), "text/plain")))

        if not isinstance(self.width, Unset):
            files.append(("width", (None, str(self.width).encode(), "text/plain")))

        if not isinstance(self.height, Unset):
            files.append(("height", (None, str(self.height).encode(), "text/plain")))

        if not isinstance(self.fps, Unset):
            files.append(("fps", (None, str(self.fps).encode(), "text/plain")))

        if not isinstance(self.seed, Unset):
            files.append(("seed", (None, str(self.seed).encode(), "text/plain")))

        if not isinstance(self.n, Unset):
            files.append(("n", (None, str(self.n).encode(), "text/plain")))

        if not isinstance(self.response_format, Unset):
            files.append(
                ("response_format", (None, str(self.response_format).encode(), "text/plain"))
            )

        if not isinstance(self.user, Unset):
            files.append(("user", (None, str(self.user).encode(), "text/plain")))

        if not isinstance(self.metadata, Unset):
            files.append(
                (
                    "metadata",
                    (None, json.dumps(self.metadata.to_dict()).encode(), "application/json"),
                )
            )

        if not isinstance(self.mode, Unset):
            files.append(("mode", (None, str(self.mode).encode(), "text/plain")))

        if not isinstance(self.images, Unset):
            for images_item_element in self.images:
                files.append(("images", (None, str(images_item_element).encode(), "text/plain")))

        if not isinstance(self.content, Unset):
            for content_item_element in self.content:
                files.append(
                    (
                        "content",
                        (
                            None,
                            json.dumps(content_item_element.to_dict()).encode(),
                            "application/json",
                        ),
                    )
                )

        if not isinstance(self.size, Unset):
            files.append(("size", (None, str(self.size).encode(), "text/plain")))

        if not isinstance(self.seconds, Unset):
            files.append(("seconds", (None, str(self.seconds).encode(), "text/plain")))

        if not isinstance(self.input_reference, Unset):
            files.append(
                ("input_reference", (None, str(self.input_reference).encode(), "text/plain"))
            )

        if not isinstance(self.parameters, Unset):
            files.append(
                (
                    "parameters",
                    (None, json.dumps(self.parameters.to_dict()).encode(), "application/json"),
                )
            )

        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))

        return files

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.create_video_request_content_item import CreateVideoRequestContentItem
        from ..models.create_video_request_metadata import CreateVideoRequestMetadata
        from ..models.create_video_request_parameters import CreateVideoRequestParameters

        d = dict(src_dict)
        model = CreateVideoRequestModel(d.pop("model"))

        prompt = d.pop("prompt")

        _image = d.pop("image", UNSET)
        image: File | Unset
        if isinstance(_image, Unset):
            image = UNSET
        else:
            image = File(payload=BytesIO(_image))

        duration = d.pop("duration", UNSET)

        width = d.pop("width", UNSET)

        height = d.pop("height", UNSET)

        fps = d.pop("fps", UNSET)

        seed = d.pop("seed", UNSET)

        n = d.pop("n", UNSET)

        response_format = d.pop("response_format", UNSET)

        user = d.pop("user", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: CreateVideoRequestMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = CreateVideoRequestMetadata.from_dict(_metadata)

        mode = d.pop("mode", UNSET)

        images = cast(list[str], d.pop("images", UNSET))

        _content = d.pop("content", UNSET)
        content: list[CreateVideoRequestContentItem] | Unset = UNSET
        if _content is not UNSET:
            content = []
            for content_item_data in _content:
                content_item = CreateVideoRequestContentItem.from_dict(content_item_data)

                content.append(content_item)

        size = d.pop("size", UNSET)

        seconds = d.pop("seconds", UNSET)

        input_reference = d.pop("input_reference", UNSET)

        _parameters = d.pop("parameters", UNSET)
        parameters: CreateVideoRequestParameters | Unset
        if isinstance(_parameters, Unset):
            parameters = UNSET
        else:
            parameters = CreateVideoRequestParameters.from_dict(_parameters)

        create_video_request = cls(
            model=model,
            prompt=prompt,
            image=image,
            duration=duration,
            width=width,
            height=height,
            fps=fps,
            seed=seed,
            n=n,
            response_format=response_format,
            user=user,
            metadata=metadata,
            mode=mode,
            images=images,
            content=content,
            size=size,
            seconds=seconds,
            input_reference=input_reference,
            parameters=parameters,
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
