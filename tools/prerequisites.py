"""What a fresh machine needs besides the pinned tools that make installs (``make prerequisites``): every
program and file the targets and the tests use, each with the Debian package that brings it, checked at once.

It runs with the standard library alone, before ``.venv/`` exists. Exit 0 when everything is there; else 1,
with what is missing and the one ``apt-get install`` line that brings it (``--packages`` prints only the
packages, for ``.ci/run``).
"""

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Every Debian package the targets and the tests need, in the order of CONTRIBUTING.md's install line.
PACKAGES = (
    "make",
    "python3-venv",
    "nodejs",
    "npm",
    "openjdk-17-jdk-headless",
    "redis-server",
    "redis-tools",
    "chromium",
    "libjakarta-annotation-api-java",
)


@dataclass(frozen=True)
class Need:
    what: str  # a program on PATH, or an absolute path
    package: str
    why: str
    version: tuple[str, ...] = ()  # the command that prints its version
    lowest: tuple[int, ...] = ()


NEEDS = (
    Need("make", "make", "every target"),
    Need("node", "nodejs", "the npm tools (spec lint, docs, TypeScript client)", ("node", "--version"), (20, 19)),
    Need("npm", "npm", "installing package-lock.json"),
    Need("java", "openjdk-17-jdk-headless", "openapi-generator", ("java", "-version"), (17,)),
    Need("javac", "openjdk-17-jdk-headless", "the Java client test", ("javac", "-version"), (17,)),
    Need("redis-server", "redis-server", "the shared limits' tests (single, replica, sentinel, TLS, cluster)"),
    Need("redis-cli", "redis-tools", "making a Redis Cluster in the tests"),
    Need("chromium", "chromium", "tests/spec/test_reference_page.py, which opens the rendered reference"),
    Need(
        "/usr/share/java/jakarta-annotation-api.jar",
        "libjakarta-annotation-api-java",
        "compiling the Java client (jakarta.annotation.*)",
    ),
)


def missing(needs: tuple[Need, ...] = NEEDS) -> list[tuple[Need, str]]:
    """Each need that is not met, with what was found instead."""
    found: list[tuple[Need, str]] = []
    for need in needs:
        if need.what.startswith("/"):
            if not Path(need.what).is_file():
                found.append((need, "no such file"))
            continue
        if shutil.which(need.what) is None:
            found.append((need, "not on PATH"))
            continue
        seen = _version(need.version) if need.version else ()
        if seen is None or seen < need.lowest:
            shown = "unknown" if seen is None else ".".join(map(str, seen))
            found.append((need, f"version {shown}, {'.'.join(map(str, need.lowest))} or newer needed"))
    try:
        import ensurepip  # noqa: F401  (Debian leaves it out unless python3-venv is installed)
    except ImportError:
        found.append((Need("python3 -m venv", "python3-venv", "making .venv/"), "ensurepip is missing"))
    return found


def _version(command: tuple[str, ...]) -> tuple[int, ...] | None:
    try:
        ran = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", ran.stdout + ran.stderr)
    return None if match is None else tuple(int(part) for part in match.groups() if part is not None)


def main(argv: list[str]) -> int:
    gaps = missing()
    packages = sorted({need.package for need, _ in gaps}, key=PACKAGES.index)
    if argv == ["--packages"]:
        print(" ".join(packages))
        return 0
    if not gaps:
        print("every prerequisite is there")
        return 0
    for need, found in gaps:
        print(f"not met: {need.what} ({need.package}, for {need.why}): {found}")
    print(f"install them with: apt-get install -y {' '.join(packages)}")
    print(f"(all of them on a fresh Debian 12: apt-get install -y {' '.join(PACKAGES)})")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
