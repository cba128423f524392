from enum import StrEnum


class CreateVideoGenerationRequestModel(StrEnum):
    SEEDANCE_FAST = "seedance-fast"

    def __str__(self) -> str:
        return str(self.value)
