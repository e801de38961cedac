"""``make publish``: this version's wheel and sdist to an internal index, with twine, or nothing at all.

``check`` runs before the build and refuses a branch other than main, a dirty tree, a release that breaks
the rules of ``tools.releases``, and a version the index already has. ``upload`` sends exactly the two distributions,
then reads them back from the index and compares their sha256 with ``dist/``.

The upload URL is ``TWINE_REPOSITORY_URL``; the index pip reads is ``PUBLISH_INDEX_URL``, by default that URL
followed by ``simple/`` (pypiserver, Nexus, Artifactory; devpi's is ``+simple/``). Credentials are twine's own
``TWINE_USERNAME`` and ``TWINE_PASSWORD``: never on a command line, sent only to the upload URL's host, and
redacted from twine's output.
"""

import base64
import hashlib
import html
import os
import re
import ssl
import subprocess
import sys
import urllib.parse
from pathlib import Path

import httpx
from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from tools.releases import ReleaseError, check, spec_version

DISTRIBUTION = "yandex_market_returns_client"
PROJECT_PAGE = "yandex-market-returns-client/"
_LINK = re.compile(r"""href=["']([^"']+)["']""")


class PublishError(Exception):
    pass


def _setting(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise PublishError(f"{name} is not set: the index to publish to (see CONTRIBUTING.md, 'Publishing')")
    return value


def _urls() -> tuple[str, str]:
    upload = _setting("TWINE_REPOSITORY_URL")
    index = os.environ.get("PUBLISH_INDEX_URL", "").strip() or upload.rstrip("/") + "/simple/"
    for name, url in (("TWINE_REPOSITORY_URL", upload), ("PUBLISH_INDEX_URL", index)):
        # Never printed: a URL may hold a password, and these messages end up in CI logs.
        if "@" in urllib.parse.urlsplit(url).netloc or ("://" not in url and "@" in url):
            raise PublishError(f"{name} holds credentials: put them in TWINE_USERNAME and TWINE_PASSWORD instead")
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PublishError(f"{name} must be an http(s) URL with a host")
    return upload, index.rstrip("/") + "/"


def _get(url: str, upload: str) -> httpx.Response:
    """Credentials go only to the upload URL's own scheme, host and port."""
    username, password = os.environ.get("TWINE_USERNAME"), os.environ.get("TWINE_PASSWORD")
    same = urllib.parse.urlsplit(url)[:2] == urllib.parse.urlsplit(upload)[:2]
    cert = os.environ.get("TWINE_CERT")  # the index's CA, as twine takes it
    try:
        return httpx.get(
            url,
            auth=(username, password) if same and username and password else None,
            verify=ssl.create_default_context(cafile=cert) if cert else True,
            timeout=30,
        )
    except httpx.HTTPError as error:
        raise PublishError(f"the index at {url} cannot be read: {type(error).__name__}") from None


def published(index: str, upload: str) -> dict[str, tuple[str, str | None]]:
    """The project's files on the index: each name's URL and the sha256 the index gives for it, if any
    (``{}`` before the first upload).

    A 404 is believed only from an index whose own page answers: a mistyped index URL must not read as
    "nothing published yet"."""
    page = urllib.parse.urljoin(index, PROJECT_PAGE)
    answer = _get(page, upload)
    if answer.status_code == 404:
        root = _get(index, upload)
        if root.status_code != 200:
            raise PublishError(f"{index} does not look like a package index (it answered {root.status_code})")
        return {}
    if answer.status_code != 200:
        raise PublishError(f"the index at {index} answered {answer.status_code} for {PROJECT_PAGE}")
    files: dict[str, tuple[str, str | None]] = {}
    for href in _LINK.findall(answer.text):
        url, _, fragment = html.unescape(href).partition("#")
        name = urllib.parse.unquote(url.rsplit("/", 1)[-1])
        files[name] = (urllib.parse.urljoin(page, url), fragment[7:] if fragment.startswith("sha256=") else None)
    return files


def _version_of(name: str) -> Version | None:
    """The version in a distribution's file name, however the index spells the project's name."""
    try:
        if name.endswith(".whl"):
            return parse_wheel_filename(name)[1]
        return parse_sdist_filename(name)[1]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def _version(root: Path) -> str:
    """As hatch names the files: normalised (``v0.5`` is ``0.5``)."""
    return str(spec_version((root / "openapi.yaml").read_text(encoding="utf-8"), "the working tree"))


def _files(version: str) -> tuple[str, str]:
    return f"{DISTRIBUTION}-{version}-py3-none-any.whl", f"{DISTRIBUTION}-{version}.tar.gz"


def preflight(root: Path) -> str:
    """What must hold before anything is built; the version to publish."""
    upload, index = _urls()
    git = ["git", "-C", str(root)]
    branch = subprocess.run([*git, "symbolic-ref", "--short", "-q", "HEAD"], capture_output=True, text=True)
    if branch.returncode > 1:
        raise PublishError(f"{root} is not a git checkout: {branch.stderr.strip()}")
    if branch.stdout.strip() != "main":
        # The release rules read main's history: a version published from elsewhere may never reach main.
        raise PublishError(f"publish from main, not {branch.stdout.strip() or 'a detached HEAD'}")
    remote = subprocess.run([*git, "rev-parse", "--verify", "-q", "refs/remotes/origin/main"], capture_output=True)
    ancestor = subprocess.run([*git, "merge-base", "--is-ancestor", "HEAD", "origin/main"], capture_output=True)
    if remote.returncode == 0 and ancestor.returncode != 0:
        raise PublishError("HEAD is not on origin/main: push it first (main's history is what the release rules read)")
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True, check=False)
    if status.stdout.strip():
        raise PublishError(f"the working tree is not clean; commit or stash first:\n{status.stdout.strip()}")
    problems = check(root)
    if problems:
        raise PublishError("not a release:\n" + "\n".join(problems))
    version = _version(root)
    already = sorted(name for name in published(index, upload) if _version_of(name) == Version(version))
    if already:
        raise PublishError(f"{version} is already on {index}: {', '.join(already)}; raise info.version to publish")
    return version


def upload(root: Path, dist: Path) -> list[str]:
    """Upload the two distributions, then prove the index serves exactly them."""
    upload_url, index = _urls()
    files = [dist / name for name in _files(_version(root))]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise PublishError(f"not built: {', '.join(missing)} (make publish builds them)")
    twine = [sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar"]
    done = subprocess.run([*twine, *map(str, files)], capture_output=True, text=True, check=False)
    print(_redacted(done.stdout + done.stderr), end="")
    if done.returncode:
        raise PublishError("twine upload failed (its message is above)")
    return verify(files, index, upload_url)


def _redacted(text: str) -> str:
    """twine prints what the index says, and an index may echo the credentials it was sent."""
    username, password = os.environ.get("TWINE_USERNAME", ""), os.environ.get("TWINE_PASSWORD", "")
    if password:
        basic = base64.b64encode(f"{username}:{password}".encode()).decode()
        for secret in (basic, basic.rstrip("="), password):
            text = text.replace(secret, "<redacted>")
    return text


def verify(files: list[Path], index: str, upload_url: str) -> list[str]:
    """Each file as the index serves it has the sha256 of the file in dist/ (downloaded when the index gives
    no sha256 of its own)."""
    served = published(index, upload_url)
    report = []
    for path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if path.name not in served:
            raise PublishError(f"{index} does not list {path.name}")
        url, given = served[path.name]
        found = given or hashlib.sha256(_get(url, upload_url).content).hexdigest()
        if found != digest:
            raise PublishError(f"{index} serves {path.name} with sha256 {found}, not {digest}")
        report.append(f"{path.name} sha256:{digest}")
    return report


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    root = Path.cwd()
    try:
        if args == ["check"]:
            print(f"publish: {preflight(root)} may be published")
        elif len(args) == 2 and args[0] == "upload":
            for line in upload(root, Path(args[1])):
                print(f"published and read back: {line}")
        else:
            print("usage: python -m tools.publish check | upload DIST", file=sys.stderr)
            return 2
    except (PublishError, ReleaseError) as error:
        print(f"publish: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
