from enum import StrEnum


class CreateVideoGenerationRequestRatio(StrEnum):
    ADAPTIVE = "adaptive"
    VALUE_0 = "16:9"
    VALUE_1 = "4:3"
    VALUE_2 = "1:1"
    VALUE_3 = "3:4"
    VALUE_4 = "9:16"
    VALUE_5 = "21:9"

    def __str__(self) -> str:
        return str(self.value)
