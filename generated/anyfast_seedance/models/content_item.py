from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.content_item_type import ContentItemType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.media_url import MediaUrl


T = TypeVar("T", bound="ContentItem")


@_attrs_define
class ContentItem:
    """One input item; `type` says which of the other fields is set.

    Attributes:
        type_ (ContentItemType):
        text (str | Unset):
        image_url (MediaUrl | Unset):
        video_url (MediaUrl | Unset):
        audio_url (MediaUrl | Unset):
        role (str | Unset): How the item is used, e.g. reference_image, first_frame, last_frame. Example:
            reference_image.
    """

    type_: ContentItemType
    text: str | Unset = UNSET
    image_url: MediaUrl | Unset = UNSET
    video_url: MediaUrl | Unset = UNSET
    audio_url: MediaUrl | Unset = UNSET
    role: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        text = self.text

        image_url: dict[str, Any] | Unset = UNSET
        if not isinstance(self.image_url, Unset):
            image_url = self.image_url.to_dict()

        video_url: dict[str, Any] | Unset = UNSET
        if not isinstance(self.video_url, Unset):
            video_url = self.video_url.to_dict()

        audio_url: dict[str, Any] | Unset = UNSET
        if not isinstance(self.audio_url, Unset):
            audio_url = self.audio_url.to_dict()

        role = self.role

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )
        if text is not UNSET:
            field_dict["text"] = text
        if image_url is not UNSET:
            field_dict["image_url"] = image_url
        if video_url is not UNSET:
            field_dict["video_url"] = video_url
        if audio_url is not UNSET:
            field_dict["audio_url"] = audio_url
        if role is not UNSET:
            field_dict["role"] = role

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.media_url import MediaUrl

        d = dict(src_dict)
        type_ = ContentItemType(d.pop("type"))

        text = d.pop("text", UNSET)

        _image_url = d.pop("image_url", UNSET)
        image_url: MediaUrl | Unset
        if isinstance(_image_url, Unset):
            image_url = UNSET
        else:
            image_url = MediaUrl.from_dict(_image_url)

        _video_url = d.pop("video_url", UNSET)
        video_url: MediaUrl | Unset
        if isinstance(_video_url, Unset):
            video_url = UNSET
        else:
            video_url = MediaUrl.from_dict(_video_url)

        _audio_url = d.pop("audio_url", UNSET)
        audio_url: MediaUrl | Unset
        if isinstance(_audio_url, Unset):
            audio_url = UNSET
        else:
            audio_url = MediaUrl.from_dict(_audio_url)

        role = d.pop("role", UNSET)

        content_item = cls(
            type_=type_,
            text=text,
            image_url=image_url,
            video_url=video_url,
            audio_url=audio_url,
            role=role,
        )

        content_item.additional_properties = d
        return content_item

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
