"""Contains all the data models used in inputs/outputs"""

from .content_variant import ContentVariant
from .create_video_request import CreateVideoRequest
from .create_video_request_content_item import CreateVideoRequestContentItem
from .create_video_request_metadata import CreateVideoRequestMetadata
from .create_video_request_model import CreateVideoRequestModel
from .create_video_request_parameters import CreateVideoRequestParameters
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
    "CreateVideoRequestContentItem",
    "CreateVideoRequestMetadata",
    "CreateVideoRequestModel",
    "CreateVideoRequestParameters",
    "ErrorDetail",
    "ErrorResponse",
    "RemixVideoRequest",
    "Video",
    "VideoError",
    "VideoFields",
    "VideoMetadata",
    "VideoStatus",
)
