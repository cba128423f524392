"""Contains all the data models used in inputs/outputs"""

from .content_item import ContentItem
from .content_item_type import ContentItemType
from .create_video_generation_request import CreateVideoGenerationRequest
from .create_video_generation_request_model import CreateVideoGenerationRequestModel
from .create_video_generation_request_ratio import CreateVideoGenerationRequestRatio
from .create_video_generation_request_resolution import CreateVideoGenerationRequestResolution
from .media_url import MediaUrl
from .seedance_status import SeedanceStatus
from .task_data import TaskData
from .task_data_data import TaskDataData
from .task_error_response import TaskErrorResponse
from .task_response import TaskResponse
from .task_status import TaskStatus
from .tool import Tool
from .tool_type import ToolType
from .video_error import VideoError
from .video_metadata import VideoMetadata
from .video_status import VideoStatus
from .video_task import VideoTask
from .video_task_fields import VideoTaskFields

__all__ = (
    "ContentItem",
    "ContentItemType",
    "CreateVideoGenerationRequest",
    "CreateVideoGenerationRequestModel",
    "CreateVideoGenerationRequestRatio",
    "CreateVideoGenerationRequestResolution",
    "MediaUrl",
    "SeedanceStatus",
    "TaskData",
    "TaskDataData",
    "TaskErrorResponse",
    "TaskResponse",
    "TaskStatus",
    "Tool",
    "ToolType",
    "VideoError",
    "VideoMetadata",
    "VideoStatus",
    "VideoTask",
    "VideoTaskFields",
)
