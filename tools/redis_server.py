"""A real redis-server (Debian's, installed by .ci/run) started on a free loopback port, for the shared limits.

Never a fake for concurrency: leases, Lua scripts and wake-ups are Redis's own behaviour. It keeps nothing
on disk, and can be stopped and started again on the same port to test what the client does meanwhile.
"""

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis


class RedisServer:
    """``options``: more of redis-server's command line (``--replicaof`` for a replica, say)."""

    def __init__(self, folder: Path, *options: str) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is missing: install Debian's redis-server (.ci/run does)")
        self._binary = binary
        self._folder = folder
        self._options = list(options)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [self._binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self._folder), "--logfile", str(self._folder / "redis.log"), *self._options]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        with redis.Redis(port=self.port, socket_connect_timeout=0.2) as client:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self._process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise AssertionError(f"redis-server did not start: {self._log()}") from None
                    time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def _log(self) -> str:
        log = self._folder / "redis.log"
        return log.read_text() if log.exists() else "(no log)"
