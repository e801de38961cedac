"""Third-party tools the tests run: the npm ones that `make test` installs from package-lock.json, and the
Debian packages CI installs (.ci/run)."""

import shutil
from pathlib import Path

ROOT = Path(__file__).parent.parent
NODE_BIN = ROOT / "node_modules" / ".bin"


def node_tool(name: str) -> Path:
    """The pinned tool, or a failure that says how to get it (never a skip: make test installs them)."""
    tool = NODE_BIN / name
    if not tool.exists():
        raise AssertionError(f"{tool} is missing: run the tests with `make test`, which installs package-lock.json")
    return tool


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def debian_jar(name: str, package: str) -> Path:
    """A jar from a Debian package, or a failure that names the package (never a skip: .ci/run installs it)."""
    jar = Path("/usr/share/java") / name
    if not jar.exists():
        raise AssertionError(f"{jar} is missing: install Debian's {package} (apt-get install {package})")
    return jar
