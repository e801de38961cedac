"""``make vendor``: both packages, the spec and the licence copied into a service's own package.

The copy finds its generated package beside itself at run time (see ``_generated.py``), so it works under any
parent package. For type checkers, which do not run that code, the copy's ``TYPE_CHECKING`` imports are
written to name the sibling: relative when DEST is a package (it has an ``__init__.py``), absolute when DEST
is a top-level folder on ``sys.path``. Only what an earlier ``make vendor`` wrote, as its ``VENDORED.txt``
says, is ever replaced.
"""

import argparse
import hashlib
import keyword
import re
import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
GENERATED = "yandex_market_returns_client"
HANDWRITTEN = "yandex_market_returns"
NOTE = "VENDORED.txt"
SPEC_FILES = ("openapi.yaml", "LICENSE")
_HEADER = "Vendored from yandex-market-returns-client "
_WROTE_LINE = re.compile(r"^Wrote: (.+)$", re.MULTILINE)
_PACKAGE_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# What the runtime dependencies import (tests/tools/test_vendoring.py checks it against the lock): a generated
# package of one of these names, or a standard module's, would shadow it for the whole service.
RUNTIME_MODULES = frozenset(
    {"httpx", "attr", "attrs", "dateutil", "anyio", "httpcore", "h11", "idna", "certifi", "sniffio", "six", "tzdata"}
    | {"typing_extensions", "exceptiongroup"}
)


class VendorError(Exception):
    pass


def _written_before(dest: Path) -> set[str]:
    """What an earlier ``make vendor`` wrote into DEST, as its note lists it; nothing without our note."""
    note = dest / NOTE
    if not note.is_file() or not (text := note.read_text(encoding="utf-8")).startswith(_HEADER):
        return set()
    found = _WROTE_LINE.search(text)
    if not found:  # notes from before the line existed
        return {GENERATED, HANDWRITTEN, "openapi.yaml", "LICENSE"}
    return {name for name in found.group(1).split() if _PACKAGE_NAME.fullmatch(name) or name in SPEC_FILES}


def _point_at(module: Path, generated: str, nested: bool) -> None:
    text = module.read_text(encoding="utf-8")
    target = f"..{generated}" if nested else generated
    text, names = re.subn(rf'^NAME = "{GENERATED}"$', f'NAME = "{generated}"', text, flags=re.MULTILINE)
    text, imports = re.subn(rf"^    from {GENERATED}\b", f"    from {target}", text, flags=re.MULTILINE)
    if names != 1 or imports == 0:
        raise VendorError(f"{module} no longer has the lines make vendor rewrites: update tools/vendor.py")
    module.write_text(text, encoding="utf-8")


def vendor(dest: Path, generated: str = GENERATED) -> Path:
    if not _PACKAGE_NAME.fullmatch(generated) or keyword.iskeyword(generated) or generated == HANDWRITTEN:
        raise VendorError(
            f"GENERATED must be a lower-case Python package name other than {HANDWRITTEN}, not {generated!r}"
        )
    if generated in sys.stdlib_module_names or generated in RUNTIME_MODULES:
        raise VendorError(f"GENERATED={generated} would shadow the module of that name: choose another name")
    dest = dest.resolve()
    if dest == ROOT.resolve() or ROOT.resolve() in dest.parents:
        raise VendorError(f"DEST must be outside this repository, not {dest}")
    before = _written_before(dest)
    for name in (generated, HANDWRITTEN, *SPEC_FILES):
        if (dest / name).exists() and name not in before:
            raise VendorError(f"{dest / name} exists and no {NOTE} says make vendor wrote it: refusing to replace it")
    nested = (dest / "__init__.py").is_file()
    if not nested and (dest.parent / "__init__.py").is_file():
        raise VendorError(
            f"{dest.parent} is a package but {dest} has no __init__.py: create it first (touch "
            f"{dest / '__init__.py'}) to vendor into the package, or vendor into a folder on sys.path"
        )
    dest.mkdir(parents=True, exist_ok=True)
    for name in before - set(SPEC_FILES):  # a generated package vendored before under another name goes too
        shutil.rmtree(dest / name, ignore_errors=True)
    unwanted = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "generated" / GENERATED, dest / generated, ignore=unwanted)
    shutil.copytree(ROOT / "src" / HANDWRITTEN, dest / HANDWRITTEN, ignore=unwanted)
    _point_at(dest / HANDWRITTEN / "_generated.py", generated, nested)
    for name in SPEC_FILES:
        shutil.copy(ROOT / name, dest / name)
    spec = (ROOT / "openapi.yaml").read_bytes()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    version = re.search(pyproject["tool"]["hatch"]["version"]["pattern"], spec.decode(), re.MULTILINE)
    dependencies = pyproject["project"]["dependencies"]
    (dest / NOTE).write_text(
        f"{_HEADER}{version.group(1) if version else '?'}, "
        f"openapi.yaml sha256 {hashlib.sha256(spec).hexdigest()}. Do not edit: update with make vendor.\n"
        f"Wrote: {HANDWRITTEN} {generated} {' '.join(SPEC_FILES)}\n"
        f"{HANDWRITTEN} finds {generated} beside it: "
        + ("import both through the package that holds this folder.\n" if nested else "both are top-level packages.\n")
        + "Runtime dependencies to install beside it:\n"
        + "".join(f"{line}\n" for line in dependencies),
        encoding="utf-8",
    )
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--generated", default=GENERATED)
    args = parser.parse_args(argv)
    try:
        print(f"vendored into {vendor(args.dest, args.generated)}")
    except VendorError as error:
        print(f"make vendor: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
