"""The house by area: packages on floors that import only downwards, and Gradio only in ui/ (see ../shared/STYLE.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cnn_lab"
FLOORS = {  # a package may import its own floor and the ones below, never one above
    "core": 0, "data": 1, "engine": 2, "inspect": 3, "views": 4, "runs": 5, "learn": 5, "session": 6, "ui": 7,
    "cli": 8,
}  # fmt: skip


def imports(path: Path, package: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``, relative ones made absolute."""
    tree = ast.parse(path.read_text(), str(path))
    here = ".".join(path.relative_to(package.parent).with_suffix("").parts)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here.split(".")[: -node.level] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names if module == "cnn_lab"]
    return found


def area(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "cnn_lab" and len(parts) > 1 and parts[1] in FLOORS else None


def modules(package: Path = PACKAGE) -> list[Path]:
    return sorted(p for p in package.rglob("*.py") if p.parent != package or p.name == "__main__.py")


def upward_imports(package: Path = PACKAGE) -> list[str]:
    """Every import of a module on a higher floor than the importer's, as "file:line (area) imports module (area)"."""
    upwards = []
    for path in modules(package):
        mine = area(".".join(path.relative_to(package.parent).parts))
        for line, module in imports(path, package):
            theirs = area(module)
            if mine and theirs and FLOORS[theirs] > FLOORS[mine]:
                upwards.append(f"{path.relative_to(package)}:{line} ({mine}) imports {module} ({theirs})")
    return upwards


def test_every_module_lives_in_an_area():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert loose == []
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == set(FLOORS)


def test_packages_import_only_their_floor_and_below():
    assert upward_imports() == []


def test_only_the_ui_imports_gradio():
    found = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in modules()
        if path.relative_to(PACKAGE).parts[0] != "ui"
        for line, module in imports(path)
        if module.split(".")[0] in ("gradio", "gradio_client")
    ]
    assert found == []


def test_the_session_and_everything_below_it_run_without_gradio():
    below = [area for area, floor in FLOORS.items() if floor <= FLOORS["session"]]
    code = "import sys; " + "; ".join(f"import cnn_lab.{a}" for a in below)
    code += "; import cnn_lab.session.session; print(sorted(m for m in sys.modules if m.split('.')[0] == 'gradio'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_check_sees_an_import_going_up(tmp_path):
    """The floor check is no rubber stamp: a core module importing the session and the UI is caught, a UI module
    importing the session is not."""
    fake = tmp_path / "cnn_lab"
    for area_name in ("core", "ui"):
        (fake / area_name).mkdir(parents=True)
        (fake / area_name / "__init__.py").write_text("")
    (fake / "core" / "config.py").write_text("import os\nfrom cnn_lab.session import Session\nfrom ..ui import app\n")
    (fake / "ui" / "app.py").write_text("from cnn_lab.session import Session\nfrom ..core import config\n")
    assert upward_imports(fake) == [
        "core/config.py:2 (core) imports cnn_lab.session (session)",
        "core/config.py:3 (core) imports cnn_lab.ui (ui)",
    ]


TABS = ("train", "inspect", "runs", "data", "learn")  # ui/<tab>.py or ui/<tab>/: one per tab of the page


def tab_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if parts[:2] == ["cnn_lab", "ui"] and len(parts) > 2 and parts[2] in TABS else None


def test_no_tab_imports_another():
    """Tabs share components only through what the app hands them (see ui/parts/tab_parts.py)."""
    found = []
    for path in modules():
        mine = tab_of(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        for line, module in imports(path):
            theirs = tab_of(module)
            if mine and theirs and theirs != mine:
                found.append(f"{path.relative_to(PACKAGE)}:{line} imports {module}")
    assert found == []


def test_every_function_fits_on_a_screen():
    """About 60 lines at most (STYLE.md): a longer one becomes a short list of well-named steps."""
    long = [
        f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > 60
    ]
    assert long == []
