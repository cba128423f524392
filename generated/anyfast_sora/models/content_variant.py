from enum import StrEnum


class ContentVariant(StrEnum):
    SPRITESHEET = "spritesheet"
    THUMBNAIL = "thumbnail"
    VIDEO = "video"

    def __str__(self) -> str:
        return str(self.value)
