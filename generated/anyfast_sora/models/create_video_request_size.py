from enum import StrEnum


class CreateVideoRequestSize(StrEnum):
    W1024_H1792 = "1024x1792"
    W1280_H720 = "1280x720"
    W1792_H1024 = "1792x1024"
    W720_H1280 = "720x1280"

    def __str__(self) -> str:
        return str(self.value)
