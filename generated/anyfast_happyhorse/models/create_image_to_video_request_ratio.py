from enum import StrEnum


class CreateImageToVideoRequestRatio(StrEnum):
    R16_9 = "16:9"
    R1_1 = "1:1"
    R3_4 = "3:4"
    R4_3 = "4:3"
    R9_16 = "9:16"

    def __str__(self) -> str:
        return str(self.value)
