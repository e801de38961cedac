"""make prerequisites (tools/prerequisites.py): every program and Debian package a fresh machine needs,
checked at once, with the one apt-get line for what is missing."""

import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT
from tools import prerequisites


def _check(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "prerequisites.py"), *args],
        capture_output=True,
        text=True,
        env={"PATH": str(path)},
        check=False,
    )


def test_this_machine_has_everything_ci_installs() -> None:
    gaps = prerequisites.missing()
    assert not gaps, f"`make prerequisites` says what to install: {[need.package for need, _ in gaps]}"


def test_every_program_missing_is_named_with_its_package_and_one_install_line(tmp_path: Path) -> None:
    checked = _check(tmp_path)
    assert checked.returncode == 1
    for need in prerequisites.NEEDS[:-1]:  # the jar is on this machine (CI installs it)
        assert f"not met: {need.what} ({need.package}, for " in checked.stdout
    assert (
        "install them with: apt-get install -y make nodejs npm openjdk-17-jdk-headless redis-server" in checked.stdout
    )
    assert _check(tmp_path, "--packages").stdout.split() == [
        "make",
        "nodejs",
        "npm",
        "openjdk-17-jdk-headless",
        "redis-server",
        "redis-tools",
        "chromium",
    ]


def test_a_node_too_old_is_refused_with_the_version_it_has(tmp_path: Path) -> None:
    node = tmp_path / "node"
    node.write_text("#!/bin/sh\necho v20.18.3\n")
    node.chmod(0o755)
    said = _check(tmp_path).stdout
    assert "not met: node (nodejs, for the npm tools" in said
    assert "version 20.18.3, 20.19 or newer needed" in said


def test_a_missing_file_is_named() -> None:
    jar = prerequisites.Need("/nonexistent/some.jar", "libjakarta-annotation-api-java", "compiling")
    assert prerequisites.missing((jar,)) == [(jar, "no such file")]


def test_every_package_is_in_the_install_line() -> None:
    assert {need.package for need in prerequisites.NEEDS} <= set(prerequisites.PACKAGES)


def test_the_contributing_guide_s_install_line_is_the_check_s() -> None:
    lines = (ROOT / "CONTRIBUTING.md").read_text().splitlines()
    line = next(line for line in lines if line.startswith("apt-get install"))
    assert line.split()[3:] == list(prerequisites.PACKAGES)
