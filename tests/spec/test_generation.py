"""`make check-generated` passes on the committed client and names what differs when it drifts."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT

GENERATED = ROOT / "generated" / "yandex_market_returns_client"


def _check_generated(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "check-generated", f"GENERATED_DIR={folder}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def copy_of_generated(tmp_path: Path) -> Path:
    copy = tmp_path / "yandex_market_returns_client"
    shutil.copytree(GENERATED, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_committed_client_matches_a_fresh_regeneration(copy_of_generated: Path) -> None:
    result = _check_generated(copy_of_generated)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hand_edit_is_reported_by_name(copy_of_generated: Path) -> None:
    edited = copy_of_generated / "models" / "operation_dto.py"
    edited.write_text(edited.read_text() + "# a hand edit\n")
    (copy_of_generated / "extra.py").write_text("")
    result = _check_generated(copy_of_generated)
    assert result.returncode != 0
    assert "operation_dto.py" in result.stdout
    assert "extra.py" in result.stdout
    assert "drifted" in result.stderr
