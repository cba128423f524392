from enum import StrEnum


class CreateImageToVideoRequestModel(StrEnum):
    HAPPYHORSE_1_0_I2V = "happyhorse-1.0-i2v"

    def __str__(self) -> str:
        return str(self.value)
