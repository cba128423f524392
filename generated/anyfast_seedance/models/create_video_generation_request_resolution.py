from enum import StrEnum


class CreateVideoGenerationRequestResolution(StrEnum):
    P480 = "480p"
    P720 = "720p"

    def __str__(self) -> str:
        return str(self.value)
