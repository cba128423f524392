"""A client library for accessing AnyFast HappyHorse image-to-video API"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
