"""The one place the hand-written layer reaches the generated package.

The two packages ship side by side: at the top level when installed, or together under a service's own
package when vendored (``svc._vendor``). The generated package is looked up beside this one, never by an
absolute name, so a vendored copy can never pick up an installed copy by accident. ``make vendor``
(tools/vendor.py) writes a renamed generated package's name (``package_name_override``) into ``NAME``, and
points the ``TYPE_CHECKING`` imports, which only type checkers read, at the copy's own sibling.
"""

import importlib
import os
from typing import TYPE_CHECKING

__all__ = [
    "SPEC_PATH",
    "AuthenticatedClient",
    "cancel_return",
    "errors",
    "get_operations",
    "get_return",
    "get_returns",
    "models",
    "types",
]

NAME = "yandex_market_returns_client"
_PARENT = __name__.rpartition(".")[0].rpartition(".")[0]  # "" when installed, "svc._vendor" when vendored
PACKAGE = f"{_PARENT}.{NAME}" if _PARENT else NAME

if TYPE_CHECKING:
    from yandex_market_returns_client import errors, models, types
    from yandex_market_returns_client.api.operations import get_operations
    from yandex_market_returns_client.api.returns import cancel_return, get_return, get_returns
    from yandex_market_returns_client.client import AuthenticatedClient
else:
    errors, models, types, get_operations, cancel_return, get_return, get_returns, _client = (
        importlib.import_module(f"{PACKAGE}.{module}")
        for module in (
            "errors",
            "models",
            "types",
            "api.operations.get_operations",
            "api.returns.cancel_return",
            "api.returns.get_return",
            "api.returns.get_returns",
            "client",
        )
    )
    AuthenticatedClient = _client.AuthenticatedClient

# ``make generate`` writes the spec into the generated package; it is a folder, installed or vendored.
SPEC_PATH = os.path.join(os.path.dirname(errors.__file__), "openapi.json")
