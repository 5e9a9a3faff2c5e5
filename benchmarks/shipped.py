"""Bytes shipped per function: its code plus its layers, zipped, minus what Lambda provides.

Ours: the function's folder and `.build/layers/<layer>` as `make build` made them (arm64,
Python 3.12, bytecode compiled). A peer: its handler, the local modules it imports, and its
third-party closure from uv.lock installed for the same platform into `.build/peers/<peer>`
(built once, like the layer: same pip flags, same bytecode step, same runtime exclusions).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import build_layers  # noqa: E402

from infra.layer_pruning import shipped  # noqa: E402

PEERS_BUILD = ROOT / ".build" / "peers"
# What each peer's deployment package carries besides its own code (chalice's packager
# bundles only its runtime module, chalice/app.py, not the CLI's dependencies).
PEER_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "floor": (),
    "fastapi_mangum": ("fastapi", "mangum", "pydantic", "python-ulid"),
    "chalice_twin": ("pydantic", "python-ulid"),
}
UNCHECKED = ("--invalidation-mode", "unchecked-hash")  # as scripts/build_layers.py compiles
CHALICE_RUNTIME = ("chalice/__init__.py", "chalice/app.py")


def zipped_size(files: Iterable[tuple[Path, str]]) -> int:
    """Size of a deflated zip of (file, name in the archive), like a Lambda asset."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in sorted(files, key=lambda pair: pair[1]):
            archive.write(path, name)
    return len(buffer.getvalue())


def tree(folder: Path, prefix: str = "") -> list[tuple[Path, str]]:
    """The files of `folder` as an asset ships them: the runtime's bytecode, not the other
    Pythons' that local runs leave there (infra/layer_pruning.py NOT_SHIPPED)."""
    return [
        (path, prefix + path.relative_to(folder).as_posix())
        for path in folder.rglob("*")
        if path.is_file() and shipped(path.name)
    ]


def ours(code: str, layers: Iterable[str]) -> dict[str, int]:
    function = tree(ROOT / code)
    sizes = {"code": zipped_size(function)}
    for layer in layers:
        folder = ROOT / ".build" / "layers" / layer
        if not folder.exists():
            raise SystemExit(f"{folder} is missing: run `make build` first")
        sizes[f"layer {layer}"] = zipped_size(tree(folder))
    sizes["total"] = sum(sizes.values())
    return sizes


def _closure(roots: Iterable[str]) -> list[str]:
    """Pinned closure of `roots` from uv.lock on the Lambda platform, minus the runtime's."""
    pins = build_layers.lock_closure([{"name": root} for root in roots])
    return sorted(pin for name, pin in pins.items() if name not in build_layers.RUNTIME_PROVIDED)


def build_peer(peer: str) -> Path:
    """`.build/peers/<peer>/python`: the peer's dependencies for arm64 Python 3.12."""
    site = PEERS_BUILD / peer / "python"
    stamp = PEERS_BUILD / f"{peer}.requirements.txt"
    pins = _closure(PEER_DEPENDENCIES[peer])
    wanted = "\n".join(pins) + "\n"
    if stamp.exists() and stamp.read_text() == wanted and site.exists():
        return site
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    if pins:
        requirements = PEERS_BUILD / f"{peer}.install.txt"
        requirements.write_text(wanted)
        python = build_layers._pip_python() or sys.executable
        target = ["--target", str(site), "--no-deps", "--no-compile", "-r", str(requirements)]
        pip = [python, "-m", "pip", "install", "--quiet", *build_layers.PIP_PLATFORM]
        subprocess.run([*pip, *target], check=True)
        shutil.rmtree(site / "bin", ignore_errors=True)
    if peer == "chalice_twin":
        # From the bench environment, where chalice is installed (pure Python).
        python = str(ROOT / ".venv-bench" / "bin" / "python")
        located = subprocess.run(
            [python, "-c", "import chalice; print(chalice.__file__)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        installed = Path(located).parent.parent
        for name in CHALICE_RUNTIME:
            (site / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(installed / name, site / name)
    build_layers.compile_bytecode(site)
    stamp.write_text(wanted)
    return site


def peer(name: str, local_files: Iterable[Path]) -> dict[str, int]:
    """A peer's package: its code (handler and the repository modules it imports) + deps."""
    code = []
    for path in local_files:
        if path.is_relative_to(ROOT / "layers" / "core"):
            code.append((path, path.relative_to(ROOT / "layers" / "core").as_posix()))
        else:
            code.append((path, path.name))
    sizes = {"code": zipped_size(code), "deps": zipped_size(tree(build_peer(name)))}
    sizes["total"] = sum(sizes.values())
    return sizes
