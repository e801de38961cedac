"""Arguments checked before any request is sent, against the bounds written in openapi.yaml.

The generated package carries the spec as ``openapi.json`` (``make generate`` writes it), so the bounds
here are read from the same document the client is generated from, not copied.
"""

import datetime
import ipaddress
import json
import operator
import re
import reprlib
from collections.abc import Mapping
from typing import Any

import httpx

from ._constants import MAX_SECONDS
from ._generated import SPEC_PATH

# Read as a file (installed or vendored, the package is a folder): importlib.resources would add more to
# every import of this package than the rest of this module.
with open(SPEC_PATH, encoding="utf-8") as _spec_file:
    _SPEC: dict[str, Any] = json.load(_spec_file)
_FORMAT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _int_bounds(schema: dict[str, Any]) -> tuple[int, int]:
    low, high = _FORMAT_RANGES[schema["format"]]
    if "minimum" in schema:
        low = max(low, schema["minimum"] + (1 if schema.get("exclusiveMinimum") else 0))
    if "maximum" in schema:
        high = min(high, schema["maximum"] - (1 if schema.get("exclusiveMaximum") else 0))
    return low, high


_SCHEMAS = _SPEC["components"]["schemas"]
CAMPAIGN_ID_BOUNDS = _int_bounds(_SPEC["components"]["parameters"]["CampaignId"]["schema"])
BUSINESS_ID_BOUNDS = _int_bounds(_SPEC["components"]["parameters"]["BusinessId"]["schema"])
RETURN_ID_BOUNDS = _int_bounds(_SCHEMAS["CancelReturnRequest"]["properties"]["returnId"])
_OPERATION_ID = _SCHEMAS["OperationId"]
OPERATION_ID_LENGTH: tuple[int, int] = (_OPERATION_ID["minLength"], _OPERATION_ID["maxLength"])
OPERATION_IDS_PER_REQUEST: int = _SCHEMAS["GetOperationsRequest"]["properties"]["operationIds"]["maxItems"]
OPERATION_TYPES: tuple[str, ...] = tuple(_SCHEMAS["OperationType"]["enum"])
# getReturn's path ids, and getReturns' query.
_PARAMETERS = _SPEC["components"]["parameters"]
ORDER_ID_BOUNDS = _int_bounds(_PARAMETERS["OrderId"]["schema"])
RETURN_RECORD_ID_BOUNDS = _int_bounds(_PARAMETERS["ReturnId"]["schema"])
PAGE_LIMIT_BOUNDS = _int_bounds(_PARAMETERS["PageLimit100Truncate"]["schema"])
_RETURNS_QUERY = _SPEC["paths"]["/v2/campaigns/{campaignId}/returns"]["get"]["parameters"]
ORDER_IDS_PER_PAGE: int = next(p for p in _RETURNS_QUERY if p.get("name") == "orderIds")["schema"]["maxItems"]
SHIPMENT_STATUSES: tuple[str, ...] = tuple(_SCHEMAS["ReturnShipmentStatusType"]["enum"])
REFUND_STATUSES: tuple[str, ...] = tuple(_SCHEMAS["RefundStatusType"]["enum"])
RETURN_TYPES: tuple[str, ...] = tuple(_SCHEMAS["ReturnType"]["enum"])
SPEC_VERSION: str = _SPEC["info"]["version"]
DEFAULT_BASE_URL: str = _SPEC["servers"][0]["url"]
# A host name (IDNA-encoded, as httpx keeps it), an IPv4 or a bracketless IPv6 address.
_HOST = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|[0-9A-Fa-f:.]+")


def check_id(name: str, value: object, bounds: tuple[int, int]) -> int:
    """Return ``value`` as a plain int, or raise naming the parameter and the value.

    Anything that is an integer by ``operator.index`` (an ``IntEnum`` member, a numpy integer) is taken
    and sent as a plain int; ``bool`` is refused, it is never meant as an id.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not bool: {value!r}")
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}: {_shown(value)}") from None
    low, high = bounds
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {_shown(number)}")
    return int(number)


def check_order_ids(order_ids: object) -> dict[int, int]:
    """The orders of a batch's returns, by return id: what lets its settling ask getReturn of each."""
    if order_ids is None:
        return {}
    if not isinstance(order_ids, Mapping):
        raise TypeError(f"order_ids must be a mapping of return ids to order ids, not {type(order_ids).__name__}")
    return {
        check_id("order_ids key", return_id, RETURN_ID_BOUNDS): check_id(
            f"order_ids[{return_id!r}]", order_id, ORDER_ID_BOUNDS
        )
        for return_id, order_id in order_ids.items()
    }


def check_return_ids(return_ids: object) -> list[int]:
    """A batch is checked whole before its first request, so a bad id never leaves half a batch sent."""
    if isinstance(return_ids, str | bytes) or not hasattr(return_ids, "__iter__"):
        raise TypeError(f"return_ids must be an iterable of ints, not {type(return_ids).__name__}")
    ids = [check_id(f"return_ids[{index}]", value, RETURN_ID_BOUNDS) for index, value in enumerate(return_ids)]
    seen: set[int] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise ValueError(f"return_ids[{index}] repeats return id {value}: each return is cancelled once")
        seen.add(value)
    return ids


def check_operation_ids(operation_ids: object) -> list[str]:
    """Operation ids as cancelReturn returned them: strings within the spec's length bounds. Checked whole
    before the first request; more than 100 are split into several requests later."""
    if isinstance(operation_ids, str | bytes) or not hasattr(operation_ids, "__iter__"):
        raise TypeError(f"operation_ids must be an iterable of str, not {type(operation_ids).__name__}")
    low, high = OPERATION_ID_LENGTH
    ids = []
    for index, value in enumerate(operation_ids):
        if not isinstance(value, str):
            raise TypeError(f"operation_ids[{index}] must be a str, not {type(value).__name__}: {_shown(value)}")
        if not low <= len(value) <= high:
            raise ValueError(f"operation_ids[{index}] must be {low} to {high} characters long, got {_shown(value)}")
        ids.append(value[:])  # a plain str of the same characters, whatever a subclass's __str__ says
    return ids


def check_operation_type(operation_type: object) -> str:
    """One of the types openapi.yaml lists: a type the Market may add later cannot be asked for yet."""
    if not isinstance(operation_type, str):
        raise TypeError(f"operation_type must be an OperationType, not {type(operation_type).__name__}")
    if operation_type not in OPERATION_TYPES:
        raise ValueError(f"operation_type must be one of {', '.join(OPERATION_TYPES)}, got {_shown(operation_type)}")
    return str(operation_type)


def check_shipment_statuses(statuses: object) -> list[str] | None:
    """Statuses openapi.yaml lists, each once (``uniqueItems``); ``None`` asks for every status."""
    if statuses is None:
        return None
    if isinstance(statuses, str | bytes) or not hasattr(statuses, "__iter__"):
        raise TypeError(
            f"shipment_statuses must be an iterable of ReturnShipmentStatusType or None, not {_shown(statuses)}"
        )
    checked: list[str] = []
    for index, status in enumerate(statuses):
        if not isinstance(status, str):
            raise TypeError(f"shipment_statuses[{index}] must be a ReturnShipmentStatusType, not {_shown(status)}")
        if status not in SHIPMENT_STATUSES:
            raise ValueError(
                f"shipment_statuses[{index}] must be one of {', '.join(SHIPMENT_STATUSES)}, got {_shown(status)}"
            )
        if status in checked:
            raise ValueError(f"shipment_statuses[{index}] repeats {_shown(str(status))}")
        checked.append(str(status))
    if not checked:
        raise ValueError("shipment_statuses is empty: pass None for returns in every status")
    return checked


def check_date(name: str, value: object) -> datetime.date | None:
    """A calendar day: a ``datetime`` is refused, since the Market would drop its time and zone unsaid."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise TypeError(f"{name} must be a datetime.date or None, not {type(value).__name__}: {_shown(value)}")
    return value


def check_callback(name: str, value: object) -> None:
    """A callback that cannot be called would fail only after the first return was cancelled."""
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable or None, not {type(value).__name__}: {_shown(value)}")


def check_api_key(api_key: object) -> str:
    """The key is never echoed, not even in the error about it."""
    if not isinstance(api_key, str):
        raise TypeError(f"api_key must be a str, not {type(api_key).__name__}")
    if not api_key:
        raise ValueError("api_key is empty: pass api_key= or set YANDEX_MARKET_API_KEY")
    if not (api_key.isascii() and api_key.isprintable()) or any(char.isspace() for char in api_key):
        raise ValueError("api_key holds characters an HTTP header cannot carry (spaces, control or non-ASCII)")
    return api_key


def check_base_url(base_url: object) -> str:
    """An https URL, or http to this machine (a fake Market): the key must not cross a network in clear text,
    nor sit in the URL, nor have a query or fragment mangle the method's path."""
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str, not {type(base_url).__name__}: {_shown(base_url)}")
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as error:
        raise ValueError(f"base_url is not a URL: {_shown_url(base_url)} ({error})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {_shown_url(base_url)}")
    if not _HOST.fullmatch(url.raw_host.decode("ascii", "replace")):
        raise ValueError(f"base_url has a host no one can connect to, got {_shown_url(base_url)}")
    if url.port is not None and not 0 < url.port < 65536:
        raise ValueError(f"base_url has a port outside 1-65535, got {_shown_url(base_url)}")
    if url.userinfo:
        raise ValueError("base_url must not carry a user name or password: pass the key as api_key")
    if url.query or url.fragment or "?" in base_url or "#" in base_url:
        raise ValueError(f"base_url must not have a query or a fragment, got {_shown_url(base_url)}")
    if url.scheme == "http" and not _is_loopback(url.host):
        raise ValueError(f"base_url must use https (plain http only to a loopback host), got {_shown_url(base_url)}")
    return base_url


def check_timeout(timeout: object) -> httpx.Timeout:
    """Every phase of a request gets a finite timeout: one without could hold a store's slot forever."""
    if not isinstance(timeout, httpx.Timeout):
        return httpx.Timeout(check_number("timeout", timeout, minimum=0.001, maximum=MAX_SECONDS))
    for phase in ("connect", "read", "write", "pool"):
        check_number(f"timeout.{phase}", getattr(timeout, phase), minimum=0.001, maximum=MAX_SECONDS)
    return timeout


def check_count(name: str, value: object, *, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}: {_shown(value)}")
    if not 0 <= value <= maximum:
        raise ValueError(f"{name} must be between 0 and {maximum}, got {_shown(value)}")
    return int(value)


def check_number(name: str, value: object, *, minimum: float, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}: {_shown(value)}")
    # Compared before any conversion: float(10**400) would overflow.
    if not (minimum <= value <= maximum):
        raise ValueError(f"{name} must be a number from {minimum:g} to {maximum:g}, got {_shown(value)}")
    return float(value)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _shown(value: object) -> str:
    """A value for a message, shortened; an integer too long to print (over 4,300 digits) by its size."""
    if isinstance(value, int) and value.bit_length() > 1024:
        return f"an integer of {value.bit_length()} bits"
    return reprlib.repr(value)


def _shown_url(url: str) -> str:
    """A URL for a message, without what may be a password in it."""
    return reprlib.repr(re.sub(r"//[^/@]*@", "//<user-info>@", url))
