"""Contains all the data models used in inputs/outputs"""

from .create_image_to_video_request import CreateImageToVideoRequest
from .create_image_to_video_request_model import CreateImageToVideoRequestModel
from .create_image_to_video_request_parameters import CreateImageToVideoRequestParameters
from .create_image_to_video_request_ratio import CreateImageToVideoRequestRatio
from .create_image_to_video_request_resolution import CreateImageToVideoRequestResolution
from .dash_scope_status import DashScopeStatus
from .task_data import TaskData
from .task_data_data import TaskDataData
from .task_error_response import TaskErrorResponse
from .task_response import TaskResponse
from .task_status import TaskStatus
from .video_error import VideoError
from .video_metadata import VideoMetadata
from .video_status import VideoStatus
from .video_task import VideoTask
from .video_task_fields import VideoTaskFields

__all__ = (
    "CreateImageToVideoRequest",
    "CreateImageToVideoRequestModel",
    "CreateImageToVideoRequestParameters",
    "CreateImageToVideoRequestRatio",
    "CreateImageToVideoRequestResolution",
    "DashScopeStatus",
    "TaskData",
    "TaskDataData",
    "TaskErrorResponse",
    "TaskResponse",
    "TaskStatus",
    "VideoError",
    "VideoMetadata",
    "VideoStatus",
    "VideoTask",
    "VideoTaskFields",
)
