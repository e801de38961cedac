"""Tools no one here wrote accept openapi.yaml, and reject it once it is broken (so no check is a no-op)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT, SPEC, node_tool

TYPESCRIPT = ROOT / "build" / "typescript"  # git-ignored, like all generated output
# No ambient @types or DOM library: the programs use neither, and loading them was most of tsc's time.
TSCONFIG = {
    "noEmit": True,
    "strict": True,
    "target": "es2022",
    "module": "es2022",
    "moduleResolution": "bundler",
    "types": [],
    "lib": ["es2022"],
}


def _run(*command: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def _broken_copy(tmp_path: Path) -> Path:
    """openapi.yaml with a schema nothing uses: both linters' rulesets warn about it."""
    spec: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec["components"]["schemas"]["Forgotten"] = {"type": "object", "description": "Used by nothing."}
    broken = tmp_path / "openapi.yaml"
    broken.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return broken


def test_spectral_and_redocly_reject_a_warning(tmp_path: Path) -> None:
    broken = _broken_copy(tmp_path)
    spectral = _run(node_tool("spectral"), "lint", "--ruleset", ROOT / ".spectral.yaml", "--fail-severity=hint", broken)
    assert spectral.returncode != 0
    assert "oas3-unused-component" in spectral.stdout
    redocly = _run(node_tool("redocly"), "lint", "--config", ROOT / "redocly.yaml", broken)
    assert redocly.returncode != 0
    assert "no-unused-components" in redocly.stdout + redocly.stderr


def test_openapi_generator_validates_the_spec_and_rejects_a_broken_one(tmp_path: Path) -> None:
    validator = Path(sys.executable).parent / "openapi-generator-cli"  # from requirements-dev.txt, beside pytest
    valid = _run(validator, "validate", "--recommend", "-i", SPEC)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "No validation issues detected" in valid.stdout
    spec: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    del spec["info"]["title"]
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(spec), encoding="utf-8")
    invalid = _run(validator, "validate", "-i", broken)
    assert invalid.returncode != 0
    assert "attribute info.title is missing" in invalid.stderr


@pytest.fixture(scope="module")
def typescript_types() -> Path:
    TYPESCRIPT.mkdir(parents=True, exist_ok=True)
    made = _run(node_tool("openapi-typescript"), SPEC, "--output", TYPESCRIPT / "openapi.d.ts")
    assert made.returncode == 0, made.stdout + made.stderr
    for source in (ROOT / "tests" / "spec" / "typescript").glob("*.ts"):
        shutil.copy(source, TYPESCRIPT / source.name)
    return TYPESCRIPT


def _tsc(folder: Path, program: str) -> subprocess.CompletedProcess[str]:
    config = folder / f"tsconfig.{program}.json"
    config.write_text(json.dumps({"compilerOptions": TSCONFIG, "files": [program]}), encoding="utf-8")
    return _run(node_tool("tsc"), "--project", config, cwd=folder)


def test_typescript_types_from_the_spec_compile_with_real_usage(typescript_types: Path) -> None:
    compiled = _tsc(typescript_types, "usage.ts")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_a_wrong_field_name_does_not_compile(typescript_types: Path) -> None:
    compiled = _tsc(typescript_types, "wrong_field.ts")
    assert compiled.returncode != 0
    assert "'return_id' does not exist" in compiled.stdout
