"""A client library for accessing Yandex Market Partner API — return cancellation"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
