"""`make vendor` copies work under any parent package and with a renamed generated package.

Each copy runs in a fresh interpreter (``python -I``: no PYTHONPATH, no working folder on ``sys.path``) whose
path holds the service's root and, after it, the installed wheel: a vendored copy that reached for the
generated package by its absolute name would import the installed one, and the test would see it.
"""

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from tests.helpers import ROOT
from tools.vendor import RUNTIME_MODULES
from tools.wheelhouse import runtime_pins

# Run inside the service: sys.argv = [-, the package holding the copy, the generated package's name, *sys.path].
SERVICE = """
import importlib, importlib.util, json, sys
parent, generated_name, *path = sys.argv[1:]
sys.path[:0] = path
assert importlib.util.find_spec("yandex_market_returns_client"), "an installed copy must be importable"
returns = importlib.import_module(f"{parent}.yandex_market_returns")
testing = importlib.import_module(f"{parent}.yandex_market_returns.testing")
with testing.FakeMarket() as market:
    market.add_returns(5, 6)
    with returns.ReturnsClient(api_key=market.api_key, base_url=market.base_url) as client:
        operation = client.cancel_return(5, 6)
        (status,) = client.get_operations(market.DEFAULT_BUSINESS, [operation.id])
generated = sys.modules[f"{parent}.{generated_name}"]
print(json.dumps({
    "operation": operation.type.value,
    "status": status.id == operation.id,
    "files": [returns.__file__, generated.__file__],
    "top_level": sorted(name for name in sys.modules if name.startswith("yandex_market_returns")),
}))
"""


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed into a folder of its own, as site-packages would hold it."""
    site = tmp_path_factory.mktemp("site-packages")
    (wheel,) = dist.glob("*.whl")
    _run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--disable-pip-version-check",
        "--target",
        site,
        wheel,
    )
    return site


def _run(*command: str | Path) -> str:
    # The generator's post-hooks run the pinned ruff by name, as `make generate` has them do.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=300, check=False, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _vendor(service: Path, parent: str, *options: str) -> Path:
    """`make vendor` into the service's package ``parent``, whose ``__init__.py`` files the service owns."""
    folder = service.joinpath(*parent.split("."))
    for level in range(1, parent.count(".") + 2):
        service.joinpath(*parent.split(".")[:level]).mkdir(parents=True, exist_ok=True)
        service.joinpath(*parent.split(".")[:level], "__init__.py").touch()
    _run("make", "-s", "-C", ROOT, "vendor", f"DEST={folder}", *options)
    return folder


@pytest.mark.parametrize(
    ("parent", "generated", "options"),
    [
        ("svc._vendor", "yandex_market_returns_client", ()),
        ("svc.third_party.ym", "svc_market_client", ("GENERATED=svc_market_client",)),
    ],
    ids=["nested", "nested-and-renamed"],
)
def test_a_vendored_copy_works_and_never_imports_the_installed_one(
    tmp_path: Path, installed: Path, parent: str, generated: str, options: tuple[str, ...]
) -> None:
    folder = _vendor(tmp_path, parent, *options)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["__init__.py", "LICENSE", "VENDORED.txt", "openapi.yaml", "yandex_market_returns", generated]
    )
    assert (folder / "openapi.yaml").read_bytes() == (ROOT / "openapi.yaml").read_bytes()
    assert "httpx>=" in (folder / "VENDORED.txt").read_text()
    assert not list(folder.rglob("__pycache__"))

    ran = json.loads(_run(sys.executable, "-I", "-c", SERVICE, parent, generated, tmp_path, installed))
    assert ran["operation"] == "RETURN_CANCELLATION"
    assert ran["status"]
    assert all(file.startswith(str(folder)) for file in ran["files"]), ran["files"]
    assert ran["top_level"] == [], "the vendored copy imported an installed copy"


def test_a_renamed_copy_is_what_package_name_override_generates(tmp_path: Path) -> None:
    """Renaming the generated folder is all that ``package_name_override`` changes: its code names no package."""
    config = tmp_path / "config.yaml"
    config.write_text(
        (ROOT / "generator-config.yaml")
        .read_text()
        .replace("package_name_override: yandex_market_returns_client", "package_name_override: svc_market_client")
    )
    generator = Path(sys.executable).parent / "openapi-python-client"
    _run(
        generator,
        "generate",
        "--path",
        ROOT / "openapi.yaml",
        "--config",
        config,
        "--custom-template-path",
        ROOT / "templates",
        "--meta",
        "none",
        "--output-path",
        tmp_path / "svc_market_client",
    )
    copy = _vendor(tmp_path / "service", "svc", "GENERATED=svc_market_client") / "svc_market_client"
    differ = subprocess.run(
        ["diff", "-r", "-q", "-x", "py.typed", "-x", "openapi.json", tmp_path / "svc_market_client", copy],
        capture_output=True,
        text=True,
        check=False,
    )
    assert differ.returncode == 0, differ.stdout + differ.stderr


@pytest.mark.parametrize("name", ["Svc", "yandex_market_returns", "svc-client", "1svc", "class", "json", "httpx"])
def test_make_vendor_refuses_a_generated_name_that_is_not_a_package(tmp_path: Path, name: str) -> None:
    refused = subprocess.run(
        ["make", "-s", "-C", ROOT, "vendor", f"DEST={tmp_path}", f"GENERATED={name}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert f"not '{name}'" in refused.stderr or f"GENERATED={name} would shadow the module" in refused.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("dest", "own", "refusal"),
    [
        ("inside-repo", None, "DEST must be outside this repository"),
        ("foreign", "yandex_market_returns/keep.py", "exists and no VENDORED.txt says make vendor wrote it"),
        ("foreign", "LICENSE", "LICENSE exists and no VENDORED.txt says make vendor wrote it"),
        ("foreign-note", "yandex_market_returns/keep.py", "exists and no VENDORED.txt says make vendor wrote it"),
    ],
    ids=["inside-repo", "a-package-of-the-service", "the-service-licence", "a-note-not-ours"],
)
def test_make_vendor_refuses_a_dest_it_could_damage(tmp_path: Path, dest: str, own: str | None, refusal: str) -> None:
    """The repository's own folders, and a service's own files of the same names, are never replaced."""
    target = ROOT / "src" if dest == "inside-repo" else tmp_path / dest
    if own:
        (target / own).parent.mkdir(parents=True, exist_ok=True)
        (target / own).write_text("kept")
    if dest == "foreign-note":
        (target / "VENDORED.txt").write_text("Third-party code the service vendored by hand.\n")
    refused = subprocess.run(
        ["make", "-s", "-C", ROOT, "vendor", f"DEST={target}"], capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2
    assert refusal in refused.stderr
    assert not subprocess.run(
        ["git", "-C", ROOT, "status", "--porcelain", "src"], capture_output=True, text=True
    ).stdout
    if own:
        assert (target / own).read_text() == "kept"


def test_a_note_naming_paths_outside_dest_removes_nothing_there(tmp_path: Path) -> None:
    folder = _vendor(tmp_path / "service", "svc._vendor")
    (tmp_path / "victim").mkdir()
    note = folder / "VENDORED.txt"
    note.write_text(note.read_text().replace("Wrote: ", "Wrote: ../../../victim "))
    _vendor(tmp_path / "service", "svc._vendor")
    assert (tmp_path / "victim").is_dir()


def test_a_dest_with_spaces_is_vendored_and_its_neighbours_are_untouched(tmp_path: Path) -> None:
    (tmp_path / "my").mkdir()
    (tmp_path / "my" / "keep.txt").write_text("kept")
    folder = _vendor(tmp_path / "my project", "svc._vendor")
    assert (folder / "yandex_market_returns" / "_generated.py").is_file()
    assert (tmp_path / "my" / "keep.txt").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my", "my project"]


def test_vendoring_again_under_another_name_removes_the_old_copy(tmp_path: Path) -> None:
    folder = _vendor(tmp_path, "svc._vendor")
    _vendor(tmp_path, "svc._vendor", "GENERATED=svc_market_client")
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["svc_market_client", "yandex_market_returns"]
    assert (
        "Wrote: yandex_market_returns svc_market_client openapi.yaml LICENSE" in (folder / "VENDORED.txt").read_text()
    )


@pytest.mark.parametrize("parent", ["svc.third_party.ym", ""], ids=["nested-and-renamed", "top-level-and-renamed"])
def test_a_vendored_copy_type_checks_against_itself(tmp_path: Path, parent: str) -> None:
    """mypy sees the copy's own generated package (its TYPE_CHECKING imports are rewritten), not another."""
    if parent:
        _vendor(tmp_path, parent, "GENERATED=svc_market_client")
    else:
        _run("make", "-s", "-C", ROOT, "vendor", f"DEST={tmp_path}", "GENERATED=svc_market_client")
    prefix = f"{parent}." if parent else ""
    (tmp_path / "app.py").write_text(
        f"from {prefix}yandex_market_returns import OperationType, ReturnsClient\n\n\n"
        "def kind() -> OperationType:\n    return OperationType.RETURN_CANCELLATION\n\n\n"
        "reveal_type(ReturnsClient.get_operations)\n"
    )
    mypy = Path(sys.executable).parent / "mypy"
    checked = subprocess.run(
        [mypy, "--strict", "--cache-dir", tmp_path / ".mypy", "app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"operation_type: {prefix}svc_market_client.models.operation_type.OperationType" in checked.stdout


def test_a_top_level_dest_on_sys_path_imports_from_its_folder(tmp_path: Path) -> None:
    """Without an ``__init__.py``, DEST is a folder of top-level packages, as ``third_party/`` on sys.path."""
    dest = tmp_path / "third_party"
    _run("make", "-s", "-C", ROOT, "vendor", f"DEST={dest}")
    assert "both are top-level packages" in (dest / "VENDORED.txt").read_text()
    script = "import sys; sys.path.insert(0, sys.argv[1]); import yandex_market_returns as h; "
    script += "from yandex_market_returns._generated import models; print(models.__file__, h.__file__, h.ReturnsClient)"
    where = _run(sys.executable, "-I", "-c", script, dest).split()
    assert where[0].startswith(str(dest / "yandex_market_returns_client"))
    assert where[1].startswith(str(dest / "yandex_market_returns"))


def test_a_dest_without_init_inside_a_package_is_refused(tmp_path: Path) -> None:
    """It would import as a namespace package at run time, while mypy could not follow the copy's imports."""
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "__init__.py").touch()
    refused = subprocess.run(
        ["make", "-s", "-C", ROOT, "vendor", f"DEST={tmp_path / 'svc' / '_vendor'}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert f"{tmp_path / 'svc'} is a package but {tmp_path / 'svc' / '_vendor'} has no __init__.py" in refused.stderr
    assert sorted(p.name for p in (tmp_path / "svc").iterdir()) == ["__init__.py"]


def test_the_names_a_generated_package_may_not_take_cover_what_the_runtime_dependencies_import() -> None:
    distributions = {pin.split("==")[0] for pin in runtime_pins()}
    imported = {
        module
        for module, owners in importlib.metadata.packages_distributions().items()
        if distributions & {canonicalize_name(owner) for owner in owners} and module.isidentifier()
    }
    assert imported, "the runtime dependencies are installed in the dev environment"
    assert imported <= RUNTIME_MODULES, imported - RUNTIME_MODULES
