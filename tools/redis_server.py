"""A real redis-server (Debian's, installed by .ci/run) started on a free loopback port, for the shared limits.

Never a fake for concurrency: leases, Lua scripts and wake-ups are Redis's own behaviour. It keeps nothing
on disk, and can be stopped and started again on the same port to test what the client does meanwhile.
"""

import ipaddress
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis


class RedisServer:
    """``options``: more of redis-server's command line (``--replicaof`` for a replica, say); ``tls``: it
    speaks TLS only, with a certificate for 127.0.0.1 signed by a CA made here (``ca``), and ``url`` is a
    ``rediss://`` one that trusts that CA."""

    def __init__(self, folder: Path, *options: str, tls: bool = False) -> None:
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
        self.ca: Path | None = None
        if tls:
            self.ca, certificate, key = _certificates(folder)
            self._options += ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no"]
            self._options += ["--tls-cert-file", str(certificate), "--tls-key-file", str(key)]
            self._options += ["--tls-ca-cert-file", str(self.ca)]
            self.url = f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={self.ca}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [self._binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        # A later --port (TLS: 0, no plain port) wins over this one.
        command += ["--dir", str(self._folder), "--logfile", str(self._folder / "redis.log"), *self._options]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        with redis.Redis.from_url(self.url, socket_connect_timeout=0.2) as client:
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
        _ended(self._process, subprocess.Popen.terminate)
        self._process = None

    def kill(self) -> None:
        """SIGKILL, as a host that dies: no goodbye to its clients or replicas."""
        _ended(self._process, subprocess.Popen.kill)
        self._process = None

    def _log(self) -> str:
        log = self._folder / "redis.log"
        return log.read_text() if log.exists() else "(no log)"


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for 127.0.0.1 it signed, with its key: the CA's, the certificate's and the key's
    files (PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "yandex-market-returns test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "redis.pem", folder / "redis.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class RedisSentinel:
    """A redis-server in sentinel mode on a free loopback port, watching the master at ``master_port`` as
    ``service``: a quorum of one, a master judged down after a second of silence."""

    def __init__(self, folder: Path, master_port: int, service: str = "returns") -> None:
        self.service = service
        self._folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis+sentinel://127.0.0.1:{self.port}/{service}"
        (folder / "sentinel.conf").write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {folder}\nlogfile {folder / 'sentinel.log'}\n"
            f"sentinel monitor {service} 127.0.0.1 {master_port} 1\n"
            f"sentinel down-after-milliseconds {service} 1000\nsentinel failover-timeout {service} 5000\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Started, and knowing of a replica of the master (what a failover needs)."""
        binary = shutil.which("redis-server")
        assert binary is not None
        self._process = subprocess.Popen([binary, str(self._folder / "sentinel.conf"), "--sentinel"])
        deadline = time.monotonic() + 30
        while not self._replicas():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the sentinel did not start, or found no replica: {self._log()}")
            time.sleep(0.1)

    def master(self) -> int:
        """The port of the master the sentinel names now."""
        with redis.Redis(port=self.port) as client:
            return int(client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service)[1])

    def failover(self) -> None:
        """A replica promoted at once, as `SENTINEL FAILOVER` does for an operator."""
        with redis.Redis(port=self.port) as client:
            client.execute_command("SENTINEL", "FAILOVER", self.service)

    def stop(self) -> None:
        _ended(self._process, subprocess.Popen.terminate)
        self._process = None

    def _replicas(self) -> bool:
        try:
            with redis.Redis(port=self.port, socket_connect_timeout=0.2) as client:
                return bool(client.execute_command("SENTINEL", "REPLICAS", self.service))
        except redis.RedisError:
            return False

    def _log(self) -> str:
        log = self._folder / "sentinel.log"
        return log.read_text()[-2000:] if log.exists() else "(no log)"


class RedisCluster:
    """A Redis Cluster of ``masters`` redis-servers on free loopback ports, made by ``redis-cli --cluster
    create`` (Debian's redis-tools) and started when every node says the cluster is ok; ``url`` is its
    first node's."""

    def __init__(self, folder: Path, masters: int = 3) -> None:
        options = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
        self.nodes = []
        for n in range(masters):
            (folder / f"node-{n}").mkdir(parents=True, exist_ok=True)
            self.nodes.append(RedisServer(folder / f"node-{n}", *options, "--cluster-port", str(free_port())))
        self.url = self.nodes[0].url

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        places = [f"127.0.0.1:{node.port}" for node in self.nodes]
        created = subprocess.run(
            ["redis-cli", "--cluster", "create", *places, "--cluster-yes"], capture_output=True, text=True, check=False
        )
        if created.returncode != 0:
            self.stop()
            raise AssertionError(f"the cluster was not created: {created.stdout}{created.stderr}")
        deadline = time.monotonic() + 30
        while not all(self._ok(node) for node in self.nodes):
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError("the cluster's nodes did not agree that it is ok within 30 s")
            time.sleep(0.1)

    def port_of(self, key: str) -> int:
        """The port of the node that owns ``key``."""
        with redis.Redis(port=self.nodes[0].port) as client:
            slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
            for start, end, master, *_ in client.execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end:
                    return int(master[1])
        raise AssertionError(f"no node owns {key!r}")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    @staticmethod
    def _ok(node: RedisServer) -> bool:
        with redis.Redis(port=node.port) as client:
            return "cluster_state:ok" in str(client.execute_command("CLUSTER", "INFO"))


def free_port() -> int:
    """A loopback port (a cluster node's bus: by default its port + 10,000, past 65,535 for most)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ended(process: "subprocess.Popen[bytes] | None", signal: Callable[["subprocess.Popen[bytes]"], None]) -> None:
    """Signal the process, if it runs, and wait for it to end."""
    if process is not None:
        signal(process)
        process.wait(timeout=10)
