"""Contains all the data models used in inputs/outputs"""

from .content_variant import ContentVariant
from .create_video_request import CreateVideoRequest
from .create_video_request_model import CreateVideoRequestModel
from .create_video_request_seconds import CreateVideoRequestSeconds
from .create_video_request_size import CreateVideoRequestSize
from .error_detail import ErrorDetail
from .error_response import ErrorResponse
from .remix_video_request import RemixVideoRequest
from .video import Video
from .video_error import VideoError
from .video_fields import VideoFields
from .video_metadata import VideoMetadata
from .video_status import VideoStatus

__all__ = (
    "ContentVariant",
    "CreateVideoRequest",
    "CreateVideoRequestModel",
    "CreateVideoRequestSeconds",
    "CreateVideoRequestSize",
    "ErrorDetail",
    "ErrorResponse",
    "RemixVideoRequest",
    "Video",
    "VideoError",
    "VideoFields",
    "VideoMetadata",
    "VideoStatus",
)
