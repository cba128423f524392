"""Contains all the data models used in inputs/outputs"""

from .content_variant import ContentVariant
from .create_video_json_request import CreateVideoJsonRequest
from .create_video_multipart_request import CreateVideoMultipartRequest
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
    "CreateVideoJsonRequest",
    "CreateVideoMultipartRequest",
    "ErrorDetail",
    "ErrorResponse",
    "RemixVideoRequest",
    "Video",
    "VideoError",
    "VideoFields",
    "VideoMetadata",
    "VideoStatus",
)
