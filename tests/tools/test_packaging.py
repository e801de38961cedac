"""`make build`'s wheel ships both packages with exactly the runtime dependencies, and works in a clean venv.

It is installed with the lowest dependencies pyproject.toml admits, from the wheelhouse; tests/tools/test_publish.py
installs it with the newest (the dev lock's) from an index, so both ends of the declared ranges are run.
"""

import json
import subprocess
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, SMOKE, VERSION, clean_venv, pip_install
from tools.wheelhouse import LOWEST


def _run(*command: str | Path) -> str:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def wheel(dist: Path) -> Path:
    assert (dist / f"yandex_market_returns_client-{VERSION}.tar.gz").is_file()
    (built,) = dist.glob("*.whl")
    return built


def test_wheel_holds_the_generated_package_and_its_metadata(wheel: Path) -> None:
    assert wheel.name == f"yandex_market_returns_client-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(
            archive.read(f"yandex_market_returns_client-{VERSION}.dist-info/METADATA").decode()
        )
    packages = {name.split("/")[0] for name in names if not name.startswith("yandex_market_returns_client-")}
    assert packages == {"yandex_market_returns_client", "yandex_market_returns"}
    assert {"yandex_market_returns_client/py.typed", "yandex_market_returns/py.typed"} <= set(names)
    assert "yandex_market_returns_client/openapi.json" in names
    assert not [name for name in names if "__pycache__" in name or name.startswith("generated/")]
    assert sorted(metadata.get_all("Requires-Dist") or []) == [
        "attrs<27,>=23.1.0",
        "httpx<0.29,>=0.28.1",
        "python-dateutil<5,>=2.9.0.post0",
        "redis<9,>=5.0.8; extra == 'redis'",
    ]
    assert metadata.get_all("Provides-Extra") == ["redis"]


def test_wheel_installs_and_works_in_a_clean_venv_with_the_lowest_dependencies(wheel: Path, tmp_path: Path) -> None:
    """The newest are installed from an index by tests/tools/test_publish.py; these from the wheelhouse, offline."""
    python = clean_venv(tmp_path / "venv")
    _run(*pip_install(python, "--no-index", "--find-links", ROOT / "build" / "wheelhouse", wheel, *LOWEST))
    assert _run(python, "-c", SMOKE, VERSION).split() == list(LOWEST)
    # The operators' command, installed as a console script.
    dry_run = _run(python.parent / "yandex-market-returns", "cancel", "--campaign-id", "1", "--dry-run", "5")
    assert json.loads(dry_run) == {"campaign_id": 1, "return_id": 5, "would_send": True}


def test_the_release_carries_its_spec_as_yaml_and_json(wheel: Path) -> None:
    dist = wheel.parent
    assert (dist / "openapi.yaml").read_bytes() == (ROOT / "openapi.yaml").read_bytes()
    assert json.loads((dist / "openapi.json").read_text(encoding="utf-8")) == yaml.safe_load(
        (ROOT / "openapi.yaml").read_text(encoding="utf-8")
    ), "the JSON copy says exactly what the YAML says"


def test_the_changelog_has_an_entry_for_this_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"\n## {VERSION} — " in changelog


def test_make_breaking_compares_with_the_last_release_or_a_given_base() -> None:
    for base, name in (((), "openapi.yaml at "), (("BASE=HEAD",), "openapi.yaml at HEAD")):
        done = subprocess.run(
            ["make", "-s", "-C", ROOT, "breaking", *base], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"no breaking changes in openapi.yaml against {name}" in done.stdout
