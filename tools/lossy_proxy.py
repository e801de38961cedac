"""A TCP proxy on loopback in front of a real server, that can lose the server's answers on the way back, or
the requests on their way there.

While ``losing`` is set, the server acts on the requests and its replies are dropped, as when a connection
breaks after the server acted; while ``dropping`` is set, the requests never reach it. What a client does then
cannot be shown with the server alone.
"""

import contextlib
import socket
import threading


class LossyProxy:
    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.losing = threading.Event()
        self.dropping = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, name="lossy proxy", daemon=True).start()

    def close(self) -> None:
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            try:
                server = socket.create_connection(self._upstream)
            except OSError:  # the server is gone: so is this connection
                client.close()
                continue
            self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, answers: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if not (self.losing if answers else self.dropping).is_set():
                    target.sendall(data)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
