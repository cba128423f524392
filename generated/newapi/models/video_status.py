from enum import StrEnum


class VideoStatus(StrEnum):
    COMPLETED = "completed"
    COMPLETED_AT = "completed_at"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"
    QUEUED = "queued"
    URL = "url"
    VIDEO_URL = "video_url"

    def __str__(self) -> str:
        return str(self.value)
