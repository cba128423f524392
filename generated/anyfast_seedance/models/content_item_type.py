from enum import StrEnum


class ContentItemType(StrEnum):
    AUDIO_URL = "audio_url"
    IMAGE_URL = "image_url"
    TEXT = "text"
    VIDEO_URL = "video_url"

    def __str__(self) -> str:
        return str(self.value)
