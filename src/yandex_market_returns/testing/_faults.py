"""What the fake Market can be told to get wrong."""

import enum

from attrs import field, frozen


class Fault(enum.Enum):
    """A failure the fake Market injects into one answer instead of (or on top of) the real one."""

    #: 500 with the Market's error body; the request is not carried out.
    SERVER_ERROR = "server_error"
    #: The request *is* carried out, then answered 500 with the Market's error body: a client that takes a
    #: 500 for "nothing happened" is wrong here.
    SERVER_ERROR_AFTER_ACTING = "server_error_after_acting"
    #: 502 with a proxy's HTML page and no rate-limit headers; the request never reaches the Market.
    HTML_BAD_GATEWAY = "html_bad_gateway"
    #: The connection closes halfway through the answer; the request is not carried out.
    DROPPED_CONNECTION = "dropped_connection"
    #: The real answer with its body cut in half: the request *is* carried out.
    TRUNCATED_BODY = "truncated_body"
    #: The request *is* carried out, then the connection closes before any answer: the client cannot know.
    ANSWER_LOST = "answer_lost"
    #: The request *is* carried out at once, and its answer held back ``slow_answer_delay`` seconds (the
    #: FakeMarket's option): past a client's timeout, the Market has done the work.
    SLOW_ANSWER = "slow_answer"


@frozen
class Canned:
    """An answer the fake Market sends as given, instead of carrying out the request (see ``inject``)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(factory=dict)
