"""Releases found from history alone: each rule of tools/releases.py shown to trip, in repositories made here."""

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import releases
from tools.breaking import breaking_changes
from tools.releases import ReleaseError, base, check

Spec = dict[str, Any]


def _spec(version: str, required: list[str] | None = None) -> Spec:
    request = {"type": "object", "properties": {"returnId": {"type": "integer"}, "note": {"type": "string"}}}
    if required:
        request["required"] = required
    return {
        "openapi": "3.0.3",
        "info": {"title": "Returns", "version": version},
        "paths": {
            "/returns/cancel": {
                "post": {
                    "operationId": "cancelReturn",
                    "requestBody": {"content": {"application/json": {"schema": request}}},
                    "responses": {"200": {"description": "Started."}},
                }
            }
        },
    }


class Repo:
    """A git repository laid out like this one: openapi.yaml, CHANGELOG.md, src/ and tests/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.root), "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def write(
        self, spec: Spec | None = None, changelog: tuple[str, ...] = (), files: dict[str, str] | None = None
    ) -> None:
        if spec is not None:
            (self.root / "openapi.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        if changelog:
            entries = "".join(f"## {version} — 2026-11-30\n\nChanges.\n\n" for version in changelog)
            (self.root / "CHANGELOG.md").write_text(f"# Changelog\n\n{entries}", encoding="utf-8")
        for name, text in (files or {}).items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """Released 0.1.0, then 0.2.0, with code in src/."""
    made = Repo(tmp_path / "repo")
    made.write(_spec("0.1.0"), ("0.1.0",), files={"src/yandex_market_returns/_client.py": "one = 1\n"})
    made.commit("0.1.0")
    made.write(_spec("0.2.0"), ("0.2.0", "0.1.0"), files={"src/yandex_market_returns/_client.py": "one = 1\ntwo = 2\n"})
    made.commit("0.2.0")
    return made


def test_a_release_with_nothing_changed_since_holds_against_the_one_before(repo: Repo) -> None:
    assert check(repo.root) == []
    commit, version = base(repo.root) or ("", None)
    assert str(version) == "0.1.0"
    assert repo.git("show", f"{commit}:openapi.yaml").count("version: 0.1.0") == 1


def test_changes_that_do_not_ship_need_no_release(repo: Repo) -> None:
    repo.write(
        files={"tests/test_client.py": "def test(): pass\n", "generated/README.md": "notes\n", "src/README.md": "x\n"}
    )
    repo.commit()
    assert check(repo.root) == []


@pytest.mark.parametrize(
    "shipped",
    [
        "src/yandex_market_returns/_client.py",
        "README.md",
        "pyproject.toml",
        "generated/yandex_market_returns_client/models.py",
    ],
)
def test_a_shipped_change_without_a_higher_version_is_refused(repo: Repo, shipped: str) -> None:
    repo.write(files={shipped: "changed = True\n"})
    repo.commit()
    (problem,) = check(repo.root)
    assert problem.startswith(f"{shipped} changed since 0.2.0 was released")
    assert "raise it to 0.2.1 or higher" in problem


def test_an_uncommitted_change_counts_too(repo: Repo) -> None:
    repo.write(files={"src/yandex_market_returns/_client.py": "one = 1\n"})
    assert "src/yandex_market_returns/_client.py changed since 0.2.0" in check(repo.root)[0]


def test_a_raised_version_needs_its_changelog_entry(repo: Repo) -> None:
    repo.write(_spec("0.2.1"), files={"src/yandex_market_returns/_client.py": "fixed = 1\n"})
    repo.commit()
    assert check(repo.root) == [
        "CHANGELOG.md has no entry for 0.2.1: add a heading '## 0.2.1 — <date>' and what changed"
    ]
    repo.write(changelog=("0.2.1", "0.2.0", "0.1.0"))
    assert check(repo.root) == []


def test_a_lower_version_is_refused(repo: Repo) -> None:
    repo.write(_spec("0.1.5"), ("0.1.5", "0.2.0", "0.1.0"))
    repo.commit()
    (problem,) = check(repo.root)
    assert "info.version 0.1.5 against the release 0.2.0" in problem
    assert "must be 0.2.1 or higher" in problem


Change = Callable[[str], Spec]


@pytest.mark.parametrize(
    ("before", "breaking", "too_small", "enough"),
    [
        ("0.2.0", lambda v: _spec(v, required=["note"]), "0.2.1", "0.3.0"),
        ("1.4.2", lambda v: _spec(v, required=["note"]), "1.5.0", "2.0.0"),
    ],
    ids=["before-1.0-needs-a-minor-bump", "after-1.0-needs-a-major-bump"],
)
def test_a_breaking_change_needs_a_major_bump(
    tmp_path: Path, before: str, breaking: Change, too_small: str, enough: str
) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write(_spec(before), (before,))
    repo.commit()
    repo.write(breaking(too_small), (too_small, before))
    (problem,) = check(repo.root)
    assert f"info.version {too_small} against the release {before}" in problem
    assert "1 breaking change(s)" in problem
    assert "new required field note" in problem
    assert f"need {enough} or higher" in problem
    repo.write(breaking(enough), (enough, before))
    assert check(repo.root) == []


def test_a_compatible_spec_change_takes_any_higher_version(repo: Repo) -> None:
    spec = _spec("0.2.1")
    spec["paths"]["/returns/cancel"]["post"]["responses"]["420"] = {"description": "Too many requests."}
    repo.write(spec, ("0.2.1", "0.2.0", "0.1.0"))
    repo.commit()
    assert check(repo.root) == []


def test_the_first_release_needs_only_its_changelog_entry(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write(_spec("0.1.0"), ("0.0.9",))
    repo.commit()
    assert base(repo.root) is None
    assert check(repo.root) == [
        "CHANGELOG.md has no entry for 0.1.0: add a heading '## 0.1.0 — <date>' and what changed"
    ]


def test_a_shallow_clone_is_refused_not_guessed(repo: Repo, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(shallow)], check=True)
    with pytest.raises(ReleaseError, match="shallow clone"):
        check(shallow)


def test_make_breaking_and_release_check_run_from_history(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(files={"src/yandex_market_returns/_client.py": "changed = 1\n"})
    repo.commit()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(repo.root)
        assert releases.main(["check"]) == 1
        assert releases.main(["base"]) == 0
    out, err = capsys.readouterr()
    assert "release check: src/yandex_market_returns/_client.py changed since 0.2.0" in err
    assert out.strip() == repo.git("log", "-1", "--format=%H", "--grep=0.2.0")


def test_a_pre_release_may_become_final_and_no_version_is_released_twice(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    for version in ("0.9.0", "1.0.0rc1"):
        repo.write(_spec(version), (version,))
        repo.commit(version)
    repo.write(_spec("1.0.0"), ("1.0.0",))
    assert check(repo.root) == []
    repo.commit("1.0.0")
    repo.write(_spec("0.9.5"), ("0.9.5",))
    repo.commit("down")
    repo.write(_spec("0.9.6"), ("0.9.6",))
    assert check(repo.root) == ["info.version 0.9.6 is not above 1.0.0, the highest version released before"]


def test_a_merged_branch_is_released_at_the_merge_on_mains_first_parent_line(repo: Repo) -> None:
    """Only main's own line counts: a branch's bump is released where main took it, the merge commit."""
    repo.git("checkout", "-q", "-b", "feature")
    repo.write(_spec("0.3.0"), ("0.3.0", "0.2.0", "0.1.0"), files={"src/yandex_market_returns/feature.py": "x = 1\n"})
    repo.commit("0.3.0 on a branch")
    repo.git("checkout", "-q", "main")
    repo.write(files={"src/yandex_market_returns/_client.py": "fixed = 1\n"})
    repo.commit("a fix on main meanwhile")
    repo.git("-c", "core.editor=true", "merge", "-q", "--no-ff", "feature", "-m", "merge 0.3.0")
    assert check(repo.root) == []
    commit, version = base(repo.root) or ("", None)
    assert str(version) == "0.2.0"
    assert repo.git("log", "-1", "--format=%s", commit) == "0.2.0"


def test_a_version_nothing_could_be_built_from_is_not_a_release(repo: Repo) -> None:
    (repo.root / "openapi.yaml").write_text(
        (repo.root / "openapi.yaml").read_text().replace("version: 0.2.0", "version: '0.2.1'")
    )
    repo.commit("quoted by mistake")
    repo.write(_spec("0.2.1"), ("0.2.1", "0.2.0"), files={"src/yandex_market_returns/_client.py": "fixed = 1\n"})
    assert check(repo.root) == []


def test_on_a_breaking_release_make_breaking_lists_what_it_broke_and_release_check_passes(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    """make breaking compares with the release the tree replaces (0.2.0), even once 0.3.0 is committed:
    it names the change; release-check decides that 0.3.0 is the bump it needs."""
    repo.write(_spec("0.3.0", required=["note"]), ("0.3.0", "0.2.0", "0.1.0"))
    repo.commit("0.3.0")
    repo.write(files={"tests/test_more.py": "x = 1\n"})
    repo.commit("tests only")
    assert check(repo.root) == []
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(repo.root)
        assert releases.main(["base"]) == 0
    previous = capsys.readouterr().out.strip()
    assert previous == repo.git("log", "-1", "--format=%H", "--grep=^0.2.0$")
    old = yaml.safe_load(repo.git("show", f"{previous}:openapi.yaml"))
    new = yaml.safe_load((repo.root / "openapi.yaml").read_text())
    assert breaking_changes(old, new) == [
        "POST /returns/cancel: request body (application/json): new required field note"
    ]


def test_pre_releases_follow_each_other_freely(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write(_spec("1.0.0rc1"), ("1.0.0rc1",))
    repo.commit()
    repo.write(_spec("1.0.0rc2", required=["note"]), ("1.0.0rc2",))
    assert check(repo.root) == []
    repo.write(_spec("1.0.0rc1"), ("1.0.0rc1",), files={"src/yandex_market_returns/x.py": "x = 1\n"})
    (problem,) = check(repo.root)
    assert "src/yandex_market_returns/x.py changed since 1.0.0rc1 was released" in problem
    assert "raise it to above 1.0.0rc1" in problem


def test_a_new_file_that_would_ship_counts_before_it_is_committed(repo: Repo) -> None:
    repo.write(files={"src/yandex_market_returns/new_module.py": "x = 1\n"})
    assert "src/yandex_market_returns/new_module.py changed since 0.2.0" in check(repo.root)[0]
