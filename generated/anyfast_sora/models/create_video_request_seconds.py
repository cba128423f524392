from enum import StrEnum


class CreateVideoRequestSeconds(StrEnum):
    S12 = "12"
    S4 = "4"
    S8 = "8"

    def __str__(self) -> str:
        return str(self.value)
