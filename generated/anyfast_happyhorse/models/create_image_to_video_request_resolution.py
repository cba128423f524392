from enum import StrEnum


class CreateImageToVideoRequestResolution(StrEnum):
    P1080 = "1080P"
    P720 = "720P"

    def __str__(self) -> str:
        return str(self.value)
