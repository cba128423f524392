from enum import StrEnum


class CreateVideoRequestModel(StrEnum):
    SORA_2 = "sora-2"

    def __str__(self) -> str:
        return str(self.value)
