"""Contains shared errors types that can be raised from API functions"""

from collections.abc import MutableMapping


class UnexpectedStatus(Exception):
    """Raised by api functions when the response status an undocumented status and Client.raise_on_unexpected_status is True"""

    def __init__(self, status_code: int, content: bytes):
        self.status_code = status_code
        self.content = content

        super().__init__(
            f"Unexpected status code: {status_code}\n\nResponse content:\n{content.decode(errors='ignore')}"
        )


class UnexpectedResponse(Exception):
    """Raised by api functions when the body of a response does not parse as its status's schema says
    (not JSON, an HTML page from a proxy, a truncated body, a required field missing)"""

    def __init__(self, status_code: int, content: bytes, headers: MutableMapping[str, str]):
        self.status_code = status_code
        self.content = content
        self.headers = headers

        super().__init__(
            f"Status code {status_code} came with a body that does not match the API's schema:\n"
            f"{content[:500].decode(errors='replace')}"
        )


__all__ = ["UnexpectedResponse", "UnexpectedStatus"]
