"""Builds the Lambda layers (arm64): .build/layers/core (catalog package + runtime deps)
and .build/layers/images (Pillow, for the images function only); and copies Swagger UI
into the meta function's folder (functions/meta/swagger-ui/, for the docs page)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra import layer_pruning  # noqa: E402

SOURCE = ROOT / "layers" / "core" / "catalog"
LAYER = ROOT / ".build" / "layers" / "core"
SITE = LAYER / "python"  # Lambda puts <layer>/python on sys.path
# Outside the layer folder so it is not shipped inside the asset.
STAMP = LAYER.parent / "core.requirements.txt"

# The Lambda platform the functions run on (see infra/stack/base.py).
PLATFORM = ("manylinux2014_aarch64", "3.12")
PIP_PLATFORM = [
    "--platform",
    PLATFORM[0],
    "--python-version",
    PLATFORM[1],
    "--implementation",
    "cp",
    "--only-binary=:all:",
]
UV_PLATFORM = ["--python-platform", "aarch64-manylinux2014", "--python-version", PLATFORM[1]]
# What the Lambda Python runtime already ships: bundling them again only adds cold-start
# weight and risks shadowing the runtime's boto3 with an older botocore.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)
LAYER_LIMIT_MB = 250  # unzipped size limit of a function plus all its layers


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _uv() -> str | None:
    local = ROOT / ".tools" / "bin" / "uv"
    return str(local) if local.exists() else shutil.which("uv")


QUIET = ("--no-header", "--no-annotate")  # bare `name==version` lines


def _pins_from_uv(uv: str) -> list[str]:
    exported = subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", *QUIET],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line.strip() for line in exported.splitlines() if line.strip() and line[0] != "#"]


def _marker_holds(marker: str | None) -> bool:
    """Whether a lock-file marker applies on the Lambda platform (unknown markers: yes)."""
    if not marker:
        return True
    try:
        from packaging.markers import Marker
    except ImportError:
        return True
    lambda_env = {
        "python_version": PLATFORM[1],
        "python_full_version": f"{PLATFORM[1]}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "aarch64",
        "os_name": "posix",
    }
    return Marker(marker).evaluate(lambda_env)


def lock_closure(roots: list[dict[str, Any]]) -> dict[str, str]:
    """`roots` (uv.lock dependency entries) and everything they need on the Lambda platform,
    as normalized name -> `name==version` from uv.lock."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages: dict[str, dict[str, Any]] = {normalize(p["name"]): p for p in lock["package"]}
    pins: dict[str, str] = {}
    pending = list(roots)
    while pending:
        dependency = pending.pop()
        name = normalize(dependency["name"])
        if not _marker_holds(dependency.get("marker")):
            continue
        package = packages[name]
        for extra in dependency.get("extra", []):
            pending += package.get("optional-dependencies", {}).get(extra, [])
        if name not in pins:
            pins[name] = f"{name}=={package['version']}"
            pending += package.get("dependencies", [])
    return pins


def _pins_from_lock() -> list[str]:
    """The project's runtime closure read from uv.lock, when uv itself is not installed."""
    project = normalize(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"])
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    entry = next(p for p in lock["package"] if normalize(p["name"]) == project)
    return list(lock_closure(entry.get("dependencies", [])).values())


def requirements() -> str:
    """Pinned third-party runtime requirements, minus what the Lambda runtime provides."""
    uv = _uv()
    pins = _pins_from_uv(uv) if uv else _pins_from_lock()
    kept = []
    for pin in pins:
        raw_name = re.split(r"[=<>!~;\[ ]", pin, maxsplit=1)[0]
        name = normalize(raw_name)
        if name not in RUNTIME_PROVIDED:
            # Normalized names keep the stamp identical whichever way the pins were read.
            kept.append(name + pin[len(raw_name) :])
    # The platform line makes a change of target platform invalidate the stamp too.
    header = f"# platform: {PLATFORM[0]}, CPython {PLATFORM[1]}\n"
    return header + "\n".join(sorted(kept, key=normalize)) + "\n"


def _pip_python() -> str | None:
    """An interpreter with pip (uv-made venvs have none; the Makefile's .tools venv does)."""
    candidates = [sys.executable, str(ROOT / ".tools" / "bin" / "python"), shutil.which("python3")]
    for python in candidates:
        if python and Path(python).exists():
            probe = subprocess.run(
                [python, "-m", "pip", "--version"], capture_output=True, check=False
            )
            if probe.returncode == 0:
                return python
    return None


def install(
    requirements_file: Path,
    site: Path = SITE,
    pip_platform: list[str] = PIP_PLATFORM,
    uv_platform: list[str] = UV_PLATFORM,
) -> None:
    # --no-deps: the pins are the full closure already, and deps would re-add botocore & co.
    # --no-compile: .pyc files built by this (non-3.12) interpreter would be dead weight.
    common = ["--target", str(site), "--no-deps", "--no-compile", "-r", str(requirements_file)]
    python = _pip_python()
    if python:
        command = [python, "-m", "pip", "install", "--quiet", *pip_platform, *common]
    else:
        uv = _uv()
        if uv is None:
            raise SystemExit("neither pip nor uv is available to install the layer's deps")
        command = [uv, "pip", "install", "--quiet", *uv_platform, "--only-binary", ":all:"]
        command += common
    subprocess.run(command, cwd=ROOT, check=True)


def copy_catalog() -> None:
    target = SITE / "catalog"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(SOURCE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # Nothing of infra/ ships: the routes functions read are catalog's (catalog.http.routes).
    shutil.rmtree(SITE / "infra", ignore_errors=True)


def _runtime_python() -> str | None:
    """An interpreter of the runtime's version that actually runs (pyenv shims may not)."""
    version = PLATFORM[1]
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(
        str(p) for p in Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}")
    )
    candidates += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def compile_bytecode(site: Path = SITE) -> None:
    """Ship bytecode for the runtime's Python: /opt is read-only in Lambda, so without it
    every cold start compiles every imported module again (measured: about half the
    import time of a function). Needs a python3.12 here; otherwise says so and goes on."""
    interpreter = _runtime_python()
    if interpreter is None:
        print(f"core layer: no python{PLATFORM[1]} found; shipping sources without bytecode")
        return
    subprocess.run(
        [
            interpreter,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(site),
        ],
        check=True,
    )


def size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1024 / 1024


def install_site(label: str, wanted: str, site: Path, stamp: Path, *platform: list[str]) -> None:
    """Install the pinned `wanted` requirements into `site`, unless the stamp says they are
    there already (the stamp is written only after a successful install)."""
    if stamp.exists() and stamp.read_text() == wanted and site.exists():
        print(f"{label}: third-party dependencies unchanged, reusing them")
        return
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    stamp.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        requirements_file = Path(scratch) / "requirements.txt"
        requirements_file.write_text(wanted)
        install(requirements_file, site, *platform)
    # Console scripts (ulid's CLI) cannot be run from a layer; no reason to ship them.
    shutil.rmtree(site / "bin", ignore_errors=True)
    (site / ".lock").unlink(missing_ok=True)  # left by uv pip
    stamp.write_text(wanted)
    pins = [line for line in wanted.splitlines() if not line.startswith("#")]
    print(f"{label}: installed " + ", ".join(pins))


def prune(site: Path = SITE) -> int:
    """Remove what no function can reach (infra/layer_pruning.py); returns bytes removed."""
    removed = 0
    doomed: list[Path] = []
    for module in layer_pruning.module_folders():
        # a package folder, a module file, or an extension module (`name.cpython-312-*.so`)
        doomed += [site / module, site / f"{module}.py", *site.glob(f"{module}.*.so")]
    for pattern in layer_pruning.PRUNED_FILES:
        doomed += site.glob(pattern)
    for path in doomed:
        if path.is_dir():
            removed += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            shutil.rmtree(path)
        elif path.is_file():
            removed += path.stat().st_size
            path.unlink()
    return removed


def build() -> None:
    install_site("core layer", requirements(), SITE, STAMP)
    pruned = prune()
    if pruned:
        print(f"core layer: pruned {pruned / 1024 / 1024:.1f} MB no function reaches")
    copy_catalog()
    compile_bytecode()
    size = size_mb(SITE)
    print(f"core layer: {LAYER.relative_to(ROOT)} is {size:.1f} MB unzipped")
    if size > LAYER_LIMIT_MB:
        raise SystemExit(f"core layer exceeds Lambda's {LAYER_LIMIT_MB} MB unzipped limit")


# --- the docs page's Swagger UI: Powertools' copy, in the meta function's folder -----------
# The core layer prunes it (no other function serves it); the meta function, which serves
# /v1/docs, gets it in its own code instead, so no other function's package carries it.

SWAGGER_UI = ROOT / "functions" / "meta" / "swagger-ui"  # ignored by git
SWAGGER_UI_FILES = ("swagger-ui-bundle.min.js", "swagger-ui.min.css")


def vendor_swagger_ui() -> None:
    """Copy Swagger UI from the Powertools this environment has, the one uv.lock pins (the
    layer's: checked), into the meta function's folder."""
    import importlib.metadata

    import aws_lambda_powertools.event_handler as powertools

    version = importlib.metadata.version("aws-lambda-powertools")
    if f"aws-lambda-powertools=={version}" not in requirements():
        raise SystemExit(f"aws-lambda-powertools {version} is not uv.lock's: run `make setup`")
    source = Path(powertools.__file__).parent / "openapi" / "swagger_ui"
    SWAGGER_UI.mkdir(exist_ok=True)
    for name in SWAGGER_UI_FILES:
        shutil.copyfile(source / name, SWAGGER_UI / name)
    size = sum((SWAGGER_UI / name).stat().st_size for name in SWAGGER_UI_FILES) / 1024 / 1024
    print(f"docs page: Swagger UI of Powertools {version} ({size:.1f} MB) in functions/meta")


# --- the images layer: Pillow, for the images function alone ------------------------------
# The API functions keep only the core layer, so Pillow never weighs on their cold start.

IMAGES_GROUP = "images"  # the pyproject dependency group the layer ships
IMAGES_LAYER = ROOT / ".build" / "layers" / "images"
IMAGES_SITE = IMAGES_LAYER / "python"
IMAGES_STAMP = IMAGES_LAYER.parent / "images.requirements.txt"
# Pillow 13 ships aarch64 wheels for manylinux_2_28 only; Lambda's Python 3.12 runtime is
# Amazon Linux 2023 (glibc 2.34), which runs them. manylinux2014 stays acceptable too.
IMAGES_PLATFORMS = ("manylinux_2_28_aarch64", "manylinux2014_aarch64")
IMAGES_PIP_PLATFORM = [
    *(part for platform in IMAGES_PLATFORMS for part in ("--platform", platform)),
    *PIP_PLATFORM[2:],
]
IMAGES_UV_PLATFORM = ["--python-platform", "aarch64-manylinux_2_28", "--python-version", "3.12"]


def _group_pins_from_lock(group: str) -> list[str]:
    """A dependency group's closure read from uv.lock, when uv itself is not installed."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages: dict[str, dict[str, Any]] = {normalize(p["name"]): p for p in lock["package"]}
    pending = list(packages[normalize(project)].get("dev-dependencies", {}).get(group, []))
    pins: dict[str, str] = {}
    while pending:
        name = normalize(pending.pop()["name"])
        if name not in pins:
            pins[name] = f"{name}=={packages[name]['version']}"
            pending += packages[name].get("dependencies", [])
    return list(pins.values())


EXPORT_FLAGS = ("--no-hashes", "--no-emit-project", *QUIET)


def images_requirements() -> str:
    uv = _uv()
    if uv:
        exported = subprocess.run(
            [uv, "export", "--frozen", "--only-group", IMAGES_GROUP, *EXPORT_FLAGS],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        pins = [line.strip() for line in exported.splitlines() if line.strip()[:1] not in "#"]
    else:
        pins = _group_pins_from_lock(IMAGES_GROUP)
    header = f"# platforms: {', '.join(IMAGES_PLATFORMS)}, CPython {PLATFORM[1]}\n"
    return header + "\n".join(sorted(pins, key=normalize)) + "\n"


def build_images() -> None:
    install_site(
        "images layer",
        images_requirements(),
        IMAGES_SITE,
        IMAGES_STAMP,
        IMAGES_PIP_PLATFORM,
        IMAGES_UV_PLATFORM,
    )
    compile_bytecode(IMAGES_SITE)
    size = size_mb(IMAGES_SITE)
    print(f"images layer: {IMAGES_LAYER.relative_to(ROOT)} is {size:.1f} MB unzipped")
    if size + size_mb(SITE) > LAYER_LIMIT_MB:
        raise SystemExit(f"core + images layers exceed Lambda's {LAYER_LIMIT_MB} MB unzipped")


if __name__ == "__main__":
    build()
    vendor_swagger_ui()
    build_images()
