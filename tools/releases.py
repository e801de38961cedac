"""Releases found in main's history alone, without tags (``make release-check``, ``make breaking``).

A version is released at the commit that set ``info.version`` in openapi.yaml on main's first-parent line.
Against the last release, the working tree must hold:

- nothing that ships (``SHIPPED``) changed since the release unless ``info.version`` was raised,
- a raised version above every earlier release, with an entry in CHANGELOG.md,
- a major bump (a minor one before 1.0) when ``tools.breaking`` finds a change that breaks clients; after
  a pre-release, any higher version.
"""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.version import InvalidVersion, Version

from tools.breaking import breaking_changes

# What the wheel and the sdist are made of (pyproject.toml's build targets, and the package's readme).
SHIPPED = (
    "openapi.yaml",
    "generated/yandex_market_returns_client",
    "src/yandex_market_returns",
    "pyproject.toml",
    "README.md",
    "LICENSE",
)
# The line hatch reads the version from, taken from pyproject.toml itself so that the two cannot disagree.
_PYPROJECT = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
VERSION_LINE = re.compile(_PYPROJECT["tool"]["hatch"]["version"]["pattern"], re.MULTILINE)


class ReleaseError(Exception):
    """The history cannot say what was released (a shallow clone, an unreadable version)."""


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def spec_version(spec: str, where: str) -> Version:
    found = VERSION_LINE.search(spec)
    try:
        return Version(found.group(1) if found else "")
    except InvalidVersion:
        raise ReleaseError(f"openapi.yaml at {where} has no valid info.version") from None


def _spec_at(root: Path, commit: str) -> str:
    return _git(root, "show", f"{commit}:openapi.yaml")


def releases(root: Path) -> list[tuple[str, Version]]:
    """Each commit that set a new ``info.version`` on main's first-parent line, newest first."""
    if _git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise ReleaseError("a shallow clone cannot show the last release: run `git fetch --unshallow`")
    found: list[tuple[str, Version]] = []
    # git's -G takes a POSIX regex: the pattern's literal start finds the candidates, Python reads them.
    touched = VERSION_LINE.pattern.split("(")[0]
    candidates = _git(root, "log", "--first-parent", "--format=%H", "-G", touched, "--", "openapi.yaml")
    for commit in reversed(candidates.split()):
        try:
            version = spec_version(_spec_at(root, commit), commit[:12])
        except ReleaseError:
            continue  # a version nothing could be built from (hatch reads the same line) was never released
        if not found or found[-1][1] != version:
            found.append((commit, version))
    return found[::-1]


def base(root: Path) -> tuple[str, Version] | None:
    """The release the working tree is measured against: the one it replaces, or (if it changes nothing
    that ships) the one before it. ``None`` before the first release."""
    history = releases(root)
    current = spec_version((root / "openapi.yaml").read_text(encoding="utf-8"), "the working tree")
    if not history:
        return None
    last_commit, last_version = history[0]
    if current != last_version or _changed_since(root, last_commit):
        return history[0]
    return history[1] if len(history) > 1 else None


def _changed_since(root: Path, commit: str) -> list[str]:
    changed = _git(root, "diff", "--name-only", commit, "--", *SHIPPED).split()
    new = _git(root, "ls-files", "--others", "--exclude-standard", "--", *SHIPPED).split()  # hatch ships them too
    return sorted({*changed, *new})


def _lowest_allowed(old: Version, breaking: bool) -> Version | None:
    """The lowest version that may follow ``old``: a major bump for a breaking change (a minor one before 1.0).
    ``None`` after a pre-release: any higher version, as pre-releases promise nothing to each other."""
    if old.is_prerelease:
        return None
    if not breaking:
        return Version(f"{old.major}.{old.minor}.{old.micro + 1}")
    return Version(f"{old.major + 1}.0.0" if old.major else f"0.{old.minor + 1}.0")


def check(root: Path) -> list[str]:
    """What is wrong with the working tree as a release; empty when it holds."""
    spec_text = (root / "openapi.yaml").read_text(encoding="utf-8")
    current = spec_version(spec_text, "the working tree")
    against = base(root)
    if against is None:
        return _changelog_problems(root, current)
    commit, released = against
    problems: list[str] = []
    findings = breaking_changes(yaml.safe_load(_spec_at(root, commit)), yaml.safe_load(spec_text))
    needed = _lowest_allowed(released, breaking=bool(findings))
    wanted = f"{needed} or higher" if needed else f"above {released}"
    if current == released:
        files = _changed_since(root, commit)
        changed = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        problems.append(
            f"{changed} changed since {released} was released (commit {commit[:12]}) but info.version is still "
            f"{released}: raise it to {wanted} in openapi.yaml and add its CHANGELOG.md entry"
        )
    elif current < released or (needed and current < needed):
        why = f"{len(findings)} breaking change(s) ({'; '.join(findings)}) need" if findings else "must be"
        problems.append(f"info.version {current} against the release {released} (commit {commit[:12]}): {why} {wanted}")
    history = releases(root)
    earlier = history[1:] if history and history[0][1] == current else history  # not the tree's own release
    highest = max((version for _, version in earlier), default=None)
    if not problems and highest is not None and current <= highest:
        problems.append(f"info.version {current} is not above {highest}, the highest version released before")
    return problems + _changelog_problems(root, current)


def _changelog_problems(root: Path, version: Version) -> list[str]:
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    if re.search(rf"^## {re.escape(str(version))} — ", changelog, re.MULTILINE):
        return []
    return [f"CHANGELOG.md has no entry for {version}: add a heading '## {version} — <date>' and what changed"]


def main(argv: list[str] | None = None) -> int:
    """``check``: report and fail; ``base``: print the commit of the release the working tree is measured
    against (``make breaking`` compares with it)."""
    command = (argv if argv is not None else sys.argv[1:]) or ["check"]
    root = Path.cwd()
    try:
        if command == ["base"]:
            against = base(root)
            print(against[0] if against else "")
            return 0
        if command != ["check"]:
            print("usage: python -m tools.releases [check | base]", file=sys.stderr)
            return 2
        problems = check(root)
    except ReleaseError as error:
        print(f"release check: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"release check: {problem}", file=sys.stderr)
    if not problems:
        against = base(root)
        print(f"release check: passed against {f'{against[1]} at {against[0][:12]}' if against else 'no release'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
