"""What the fake Market keeps of the requests it served, for tests to inspect."""

from attrs import frozen

from ._faults import Canned, Fault


@frozen
class Exchange:
    """One request and its answer as sent, the ``Api-Key`` value replaced by ``<API-KEY>``.

    ``received_at`` is when the request arrived, on the ``time.monotonic()`` clock of the process.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    fault: Fault | Canned | None
    received_at: float


@frozen
class StartedOperation:
    """A cancellation the fake Market started, for the store ``campaign_id`` of the business ``business_id``;
    ``FakeMarket.operation_status`` tells how far it got."""

    id: str
    campaign_id: int
    return_id: int
    business_id: int
