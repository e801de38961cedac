"""`make publish` against a real pypiserver on loopback, then installs from that index alone.

The index holds the runtime dependencies' wheels too (``make wheelhouse``), as an index that proxies the
public one would serve them; pypiserver's fallback to the public index is off, so nothing leaves loopback.
Publishing runs in a snapshot of this working tree committed into a repository of its own, so that the
clean-tree rule holds and its refusals can be provoked.
"""

import base64
import hashlib
import http.server
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import ROOT, SMOKE, VERSION, clean_venv, pip_install
from tools import publish
from tools.wheelhouse import runtime_pins

WHEELHOUSE = ROOT / "build" / "wheelhouse"
USER = "publisher"
PASSWORD = secrets.token_urlsafe(18)
UNREACHABLE = "http://127.0.0.1:9/"  # for refusals that come before the index is asked
FILES = (f"yandex_market_returns_client-{VERSION}-py3-none-any.whl", f"yandex_market_returns_client-{VERSION}.tar.gz")


def _run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> "Ran":
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    return Ran(done.returncode, done.stdout, done.stderr)


class Ran:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def ok(self) -> str:
        assert self.code == 0, self.out + self.err
        return self.out


class Index:
    """pypiserver on a free loopback port: uploads need the htpasswd login, reads are open."""

    def __init__(self, folder: Path, hash_algo: str = "sha256") -> None:
        if not list(WHEELHOUSE.glob("*.whl")):
            raise AssertionError(f"{WHEELHOUSE} is empty: run the tests with `make test` (or run `make wheelhouse`)")
        self.packages = folder / "packages"
        shutil.copytree(WHEELHOUSE, self.packages, ignore=shutil.ignore_patterns(".ready-*"))
        digest = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()  # noqa: S324 (htpasswd {SHA})
        (folder / "htpasswd").write_text(f"{USER}:{{SHA}}{digest}\n")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"
        server = Path(sys.executable).parent / "pypi-server"
        command = [server, "run", "-p", port, "-i", "127.0.0.1", "-a", "update", "-P", folder / "htpasswd"]
        command += ["--disable-fallback", "--hash-algo", hash_algo, self.packages]
        self.log = (folder / "pypiserver.log").open("w")
        self.process = subprocess.Popen([str(c) for c in command], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.url + "simple/", timeout=1)
                break
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise AssertionError(
                        f"pypiserver did not start: {(folder / 'pypiserver.log').read_text()}"
                    ) from None
                time.sleep(0.1)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()

    def ours(self) -> list[str]:
        return sorted(path.name for path in self.packages.glob("yandex_market_returns_client-*"))


def _snapshot(folder: Path) -> Path:
    """This working tree's files (tracked, and new ones not ignored), committed into a repository of their own."""
    listed = (
        subprocess.run(
            ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, folder / name)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", "-C", folder, "-c", "user.name=t", "-c", "user.email=t@localhost", *args], check=True)
    return folder


def _publish(repo: Path, index: "Index | str", **settings: str) -> Ran:
    url = index if isinstance(index, str) else index.url
    env = {**os.environ, "TWINE_REPOSITORY_URL": url, "TWINE_USERNAME": USER, "TWINE_PASSWORD": PASSWORD}
    env.update(settings)
    # The snapshot uses this checkout's environment rather than building its own.
    ran = _run("make", "-s", "-C", repo, "publish", f"VENV={ROOT / '.venv'}", "DIST=dist", env=env)
    assert PASSWORD not in ran.out + ran.err, "the password was echoed"
    return ran


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    served = Index(tmp_path_factory.mktemp("index"))
    yield served
    served.close()


@pytest.fixture(scope="module")
def published(index: Index, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The snapshot, published once; its dist/ is what was uploaded."""
    repo = _snapshot(tmp_path_factory.mktemp("repo"))
    # Hidden from git only here: the clean-tree check cannot see it, so the build must not take it.
    (repo / "src" / "yandex_market_returns" / "local_settings.py").write_text('API_KEY = "local-only"\n')
    with (repo / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write("src/yandex_market_returns/local_settings.py\n")
    ran = _publish(repo, index)
    assert ran.code == 0, ran.out + ran.err
    for name in FILES:
        digest = hashlib.sha256((repo / "dist" / name).read_bytes()).hexdigest()
        assert f"published and read back: {name} sha256:{digest}" in ran.out
    return repo


Spoil = Callable[[Path], object]


def _only(index: Index) -> tuple[str, ...]:
    """pip's options to install from that index and nothing else."""
    return ("--no-cache-dir", "--index-url", index.url + "simple/")


def test_publish_uploads_the_wheel_and_sdist_only_and_the_index_serves_them_unchanged(
    published: Path, index: Index
) -> None:
    assert index.ours() == sorted(FILES), "the spec files beside them in dist/ are not uploaded"
    for name in FILES:
        assert (index.packages / name).read_bytes() == (published / "dist" / name).read_bytes()
    with zipfile.ZipFile(index.packages / FILES[0]) as wheel, tarfile.open(index.packages / FILES[1]) as sdist:
        shipped = [*wheel.namelist(), *sdist.getnames()]
    assert "yandex_market_returns/__init__.py" in shipped
    assert not [name for name in shipped if "local_settings" in name], "built from HEAD, not the working tree"


def test_installed_from_that_index_alone_it_works(published: Path, index: Index, tmp_path: Path) -> None:
    python = clean_venv(tmp_path / "venv")
    _run(
        *pip_install(
            python, "--no-cache-dir", "--index-url", index.url + "simple/", f"yandex-market-returns-client=={VERSION}"
        )
    ).ok()
    versions = _run(python, "-c", SMOKE, VERSION).ok().split()
    assert sorted(versions) == [
        pin for pin in runtime_pins() if pin.split("==")[0] in ("httpx", "attrs", "python-dateutil")
    ]


def test_installed_with_require_hashes_and_a_tampered_hash_is_refused(
    published: Path, index: Index, tmp_path: Path
) -> None:
    def line(pin: str, file: Path) -> str:
        return f"{pin} --hash=sha256:{hashlib.sha256(file.read_bytes()).hexdigest()}\n"

    (wheel, *_) = (published / "dist").glob("*.whl")
    pins = [line(f"yandex-market-returns-client=={VERSION}", wheel)]
    for pin in runtime_pins():
        name, version = pin.split("==")
        (file,) = [
            p for p in WHEELHOUSE.glob("*.whl") if p.name.lower().startswith(f"{name.replace('-', '_')}-{version}-")
        ]
        pins.append(line(pin, file))
    python = clean_venv(tmp_path / "venv")
    tampered = tmp_path / "tampered.txt"
    tampered.write_text("".join(pins).replace(pins[0].split("sha256:")[1].strip(), "0" * 64))
    refused = _run(*pip_install(python, *_only(index), "--require-hashes", "-r", tampered))
    assert refused.code != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in refused.err
    hashed = tmp_path / "requirements.txt"
    hashed.write_text("".join(pins))
    _run(*pip_install(python, *_only(index), "--require-hashes", "-r", hashed)).ok()
    _run(python, "-c", SMOKE, VERSION).ok()


def test_a_second_publish_of_the_same_version_is_refused(published: Path, index: Index) -> None:
    before = {name: (index.packages / name).stat().st_mtime_ns for name in FILES}
    again = _publish(published, index)
    assert again.code != 0
    assert f"publish: {VERSION} is already on {index.url}simple/: {', '.join(FILES)}; raise info.version" in again.err
    assert {name: (index.packages / name).stat().st_mtime_ns for name in FILES} == before


@pytest.mark.parametrize(
    ("spoil", "refusal"),
    [
        (lambda repo: (repo / "notes.txt").write_text("draft"), "the working tree is not clean"),
        (lambda repo: (repo / "src" / "yandex_market_returns" / "_client.py").write_text("broken"), "not clean"),
    ],
    ids=["untracked-file", "modified-file"],
)
def test_publish_refuses_a_dirty_tree(tmp_path: Path, spoil: Spoil, refusal: str) -> None:
    repo = _snapshot(tmp_path / "repo")
    spoil(repo)
    ran = _publish(repo, UNREACHABLE)
    assert ran.code != 0
    assert refusal in ran.err
    assert not (repo / "dist").exists(), "refused before building"


def test_publish_refuses_a_version_without_its_changelog_entry(tmp_path: Path) -> None:
    repo = _snapshot(tmp_path / "repo")
    changelog = repo / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace(f"## {VERSION} — ", "## unreleased — "))
    subprocess.run(
        ["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qam", "x"], check=True
    )
    ran = _publish(repo, UNREACHABLE)
    assert ran.code != 0
    assert f"CHANGELOG.md has no entry for {VERSION}" in ran.err


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("", "TWINE_REPOSITORY_URL is not set"),
        (
            f"http://{USER}:{PASSWORD}@127.0.0.1:9/",
            "TWINE_REPOSITORY_URL holds credentials: put them in TWINE_USERNAME",
        ),
        ("ftp://127.0.0.1/", "TWINE_REPOSITORY_URL must be an http(s) URL"),
        (f"htps://{USER}:{PASSWORD}@127.0.0.1:9/", "TWINE_REPOSITORY_URL holds credentials"),
        (f"{USER}:{PASSWORD}@127.0.0.1:9", "TWINE_REPOSITORY_URL holds credentials"),
    ],
    ids=["unset", "credentials-in-url", "not-http", "credentials-in-a-bad-url", "credentials-without-scheme"],
)
def test_publish_refuses_a_bad_index_url_without_echoing_it(tmp_path: Path, url: str, refusal: str) -> None:
    ran = _publish(_snapshot(tmp_path / "repo"), url)  # which also holds that the password is not echoed
    assert ran.code != 0
    assert refusal in ran.err


def test_a_wrong_password_uploads_nothing_and_is_not_echoed(published: Path, tmp_path: Path) -> None:
    fresh = Index(tmp_path / "index")
    wrong = secrets.token_urlsafe(18)
    env = {**os.environ, "TWINE_REPOSITORY_URL": fresh.url, "TWINE_USERNAME": USER, "TWINE_PASSWORD": wrong}
    try:
        ran = _run(sys.executable, "-m", "tools.publish", "upload", published / "dist", cwd=published, env=env)
    finally:
        fresh.close()
    assert ran.code != 0
    assert "403 Forbidden" in ran.out + ran.err
    assert "publish: twine upload failed" in ran.err
    assert wrong not in ran.out + ran.err
    assert fresh.ours() == []


def test_a_mistyped_index_url_is_not_read_as_nothing_published(published: Path, index: Index) -> None:
    """A 404 from a page that is not the index must not let the same version be uploaded again."""
    ran = _publish(published, index, PUBLISH_INDEX_URL=index.url + "simpel/")
    assert ran.code != 0
    assert f"{index.url}simpel/ does not look like a package index (it answered " in ran.err
    assert "Uploading" not in ran.out + ran.err


def test_the_read_back_catches_a_file_the_index_serves_changed(published: Path, index: Index) -> None:
    files = [published / "dist" / name for name in FILES]
    assert publish.verify(files, index.url + "simple/", index.url) == [
        f"{path.name} sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}" for path in files
    ]
    served = index.packages / FILES[1]
    original = served.read_bytes()
    try:
        served.write_bytes(original + b"tampered")
        with pytest.raises(publish.PublishError, match=f"serves {FILES[1]} with sha256 [0-9a-f]{{64}}, not "):
            publish.verify(files, index.url + "simple/", index.url)
    finally:
        served.write_bytes(original)


def test_publish_refuses_a_branch_other_than_main(tmp_path: Path) -> None:
    """The release rules read main's history: a version published from a branch might never reach main."""
    repo = _snapshot(tmp_path / "repo")
    subprocess.run(["git", "-C", repo, "checkout", "-q", "-b", "experiment"], check=True)
    ran = _publish(repo, UNREACHABLE)
    assert ran.code != 0
    assert "publish: publish from main, not experiment" in ran.err


class _EchoingIndex(http.server.BaseHTTPRequestHandler):
    """An index that answers every upload 500 with the Authorization header it got in its reason phrase."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        credentials = self.headers.get("Authorization", "")
        self.send_response(500, f"Boom {credentials} {base64.b64decode(credentials.split()[-1]).decode()}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_credentials_an_index_echoes_are_redacted_from_twines_output(published: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoingIndex)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    env = {**os.environ, "TWINE_REPOSITORY_URL": url, "TWINE_USERNAME": USER, "TWINE_PASSWORD": PASSWORD}
    try:
        ran = _run(sys.executable, "-m", "tools.publish", "upload", published / "dist", cwd=published, env=env)
    finally:
        server.shutdown()
        server.server_close()
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert ran.code != 0
    shown = " ".join((ran.out + ran.err).split())  # rich wraps twine's lines
    assert f"Boom Basic <redacted> {USER}:<redacted>" in shown, "the test must see the echo"
    assert basic not in ran.out + ran.err
    assert PASSWORD not in ran.out + ran.err


@pytest.mark.parametrize(
    ("index", "sent"), [("http://127.0.0.1:9/simple/", True), ("http://127.0.0.2:9/simple/", False)]
)
def test_credentials_go_only_to_the_upload_host(monkeypatch: pytest.MonkeyPatch, index: str, sent: bool) -> None:
    seen: list[object] = []

    def get(url: str, **options: object) -> httpx.Response:
        seen.append(options["auth"])
        return httpx.Response(200, text="<html></html>")

    monkeypatch.setattr(httpx, "get", get)
    monkeypatch.setenv("TWINE_USERNAME", USER)
    monkeypatch.setenv("TWINE_PASSWORD", PASSWORD)
    assert publish.published(index, "http://127.0.0.1:9/") == {}
    assert seen == [(USER, PASSWORD) if sent else None]


def test_an_index_that_gives_no_sha256_is_still_read_back_and_refuses_the_version_again(
    published: Path, tmp_path: Path
) -> None:
    """pypiserver with md5 links: the read-back downloads the files, and the version is seen as published."""
    md5 = Index(tmp_path / "index", hash_algo="md5")
    env = {**os.environ, "TWINE_REPOSITORY_URL": md5.url, "TWINE_USERNAME": USER, "TWINE_PASSWORD": PASSWORD}
    try:
        uploaded = _run(sys.executable, "-m", "tools.publish", "upload", published / "dist", cwd=published, env=env)
        again = _run(sys.executable, "-m", "tools.publish", "check", cwd=published, env=env)
    finally:
        md5.close()
    assert uploaded.code == 0, uploaded.out + uploaded.err
    assert f"published and read back: {FILES[0]} sha256:" in uploaded.out
    assert again.code != 0
    assert f"{VERSION} is already on {md5.url}simple/" in again.err


def test_publish_refuses_a_generated_package_that_drifted_from_the_spec(tmp_path: Path) -> None:
    repo = _snapshot(tmp_path / "repo")
    spec = repo / "generated" / "yandex_market_returns_client" / "openapi.json"
    spec.write_text(spec.read_text().replace('"title"', '"title" ', 1))
    amend = ["commit", "-q", "--amend", "-a", "--no-edit"]  # one commit: the release rules hold, only drift is left
    subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@localhost", *amend], check=True)
    fresh = Index(tmp_path / "index")
    try:
        ran = _publish(repo, fresh)
    finally:
        fresh.close()
    assert ran.code != 0
    assert "generated/ has drifted from its inputs" in ran.err
    assert fresh.ours() == []


def test_publish_refuses_commits_main_does_not_have_yet(tmp_path: Path) -> None:
    origin = _snapshot(tmp_path / "origin")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", f"file://{origin}", clone], check=True)
    (clone / "CHANGELOG.md").write_text((clone / "CHANGELOG.md").read_text() + "\nUnpushed.\n")
    subprocess.run(
        ["git", "-C", clone, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qam", "x"], check=True
    )
    ran = _publish(clone, UNREACHABLE)
    assert ran.code != 0
    assert "publish: HEAD is not on origin/main: push it first" in ran.err
