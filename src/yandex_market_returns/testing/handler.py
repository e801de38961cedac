"""HTTP glue between a socket and the fake Market's rules."""

import logging
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from .exchanges import Exchange
from .faults import Canned, Fault

if TYPE_CHECKING:
    from .market import FakeMarket

logger = logging.getLogger("yandex_market_returns.testing")

# Faults that replace the Market's answer: the request is not carried out.
_INSTEAD = (Fault.SERVER_ERROR, Fault.HTML_BAD_GATEWAY, Fault.DROPPED_CONNECTION)


class MarketServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a burst of new connections overflows it and the kernel drops
    # the extra SYNs, which clients resend only a second later. The Market itself takes bursts.
    request_queue_size = 128

    def __init__(self, market: "FakeMarket") -> None:
        super().__init__(("127.0.0.1", 0), MarketHandler)
        self.market = market

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gives up on a request (a timeout, a cancelled task) breaks the pipe: that is a test
        # doing its job, not an error worth a traceback on stderr.
        logger.debug("fake Market: exchange with %s ended early", client_address, exc_info=True)


class MarketHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients pool connections as they do with the Market
    timeout = 30  # seconds an idle kept-alive connection holds its thread
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms wait for a delayed ACK
    server: MarketServer

    def __getattr__(self, name: str) -> object:
        # BaseHTTPRequestHandler looks up do_<METHOD>; the Market answers every method itself (405 for any
        # the spec does not declare), where the standard library would send an HTML 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("fake Market: " + format, *args)

    def _serve(self) -> None:
        received_at = time.monotonic()
        market = self.server.market
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = market.next_fault()
        if isinstance(fault, Canned) or fault in _INSTEAD:
            answer = market.fault_answer(fault)
        else:
            answer = market.answer(self.command, self.path, self.headers, body)
            if fault is Fault.SERVER_ERROR_AFTER_ACTING:
                answer = market.fault_answer(fault)
        status, headers, content = answer
        if fault is Fault.ANSWER_LOST:
            content = b""
        sent = content[: len(content) // 2] if fault in (Fault.TRUNCATED_BODY, Fault.DROPPED_CONNECTION) else content
        # Recorded before it is sent: a client that has its answer finds it in market.exchanges.
        market.record(
            Exchange(
                method=self.command,
                path=self.path,
                headers=market.redacted(self.headers),
                body=body,
                status=status,
                response_headers=headers,
                response_body=sent,
                fault=fault,
                received_at=received_at,
            )
        )
        if fault is Fault.ANSWER_LOST:
            self.close_connection = True
            return
        if fault is Fault.SLOW_ANSWER:
            time.sleep(market.slow_answer_delay)
        self.log_request(status)
        self.send_response_only(status)
        self.send_header("Server", self.version_string())
        if "Date" not in headers:  # a canned answer may bring its own (a server whose clock is off)
            self.send_header("Date", self.date_time_string())
        for name, value in headers.items():
            self.send_header(name, value)
        # A dropped connection promises the whole body and closes after half of it. A canned answer with a
        # Content-Length of its own, which may not match its body, closes too, so that no client hangs.
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(content) if fault is Fault.DROPPED_CONNECTION else len(sent)))
        if fault is Fault.DROPPED_CONNECTION or "Content-Length" in headers:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":  # an answer to HEAD has no body, whatever its Content-Length says
            self.wfile.write(sent)
        self.wfile.flush()
