from enum import StrEnum


class ToolType(StrEnum):
    WEB_SEARCH = "web_search"

    def __str__(self) -> str:
        return str(self.value)
