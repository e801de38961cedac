"""The runtime dependencies' wheels in a folder, so that tests install the package from loopback alone.

``make test`` downloads them once (``make wheelhouse``): every distribution the runtime dependencies pull in
on this Python, at the versions of the dev lock (the newest the tests run against), plus ``LOWEST``, the
lowest versions pyproject.toml admits, and ``LOWEST_REDIS``, the lowest its redis extra admits.
"""

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parent.parent
LOWEST = ("httpx==0.28.1", "attrs==23.1.0", "python-dateutil==2.9.0.post0")
LOWEST_REDIS = "redis==5.0.8"


def runtime_pins() -> list[str]:
    """``name==version`` for each runtime dependency and what it needs here, as installed from the dev lock."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(line) for line in project["dependencies"]]
    pins: dict[str, str] = {}
    while wanted:
        requirement = wanted.pop()
        name = canonicalize_name(requirement.name)
        if name in pins or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        pins[name] = importlib.metadata.version(name)
        wanted += [Requirement(line) for line in importlib.metadata.requires(name) or ()]
    return sorted(f"{name}=={version}" for name, version in pins.items())


def main(folder: str) -> int:
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    download += ["--only-binary=:all:", "--dest", folder]
    for pins in ([*runtime_pins(), "--no-deps"], [*LOWEST, LOWEST_REDIS]):  # the lowest with what they need
        if subprocess.run([*download, *pins], check=False).returncode:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
