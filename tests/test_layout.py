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


def ui_reaching_past_the_session(package: Path = PACKAGE) -> list[str]:
    """Every import of the engine by the page's layer, as "file:line imports module": the page lays out and wires,
    and asks the session (or views, for what it draws) for the rest."""
    found = []
    for path in (package / "ui").rglob("*.py*"):  # the .pyi stubs too
        for line, module in imports(path, package):
            if area(module) == "engine":
                found.append(f"{path.relative_to(package)}:{line} imports {module}")
    return sorted(found)


def test_the_page_never_imports_the_engine():
    assert ui_reaching_past_the_session() == []


def test_the_check_sees_the_page_reach_for_the_engine(tmp_path):
    fake = tmp_path / "cnn_lab" / "ui"
    fake.mkdir(parents=True)
    (fake / "panel.py").write_text("from cnn_lab.session import Session\nfrom cnn_lab.engine.optim import curve\n")
    assert ui_reaching_past_the_session(tmp_path / "cnn_lab") == ["ui/panel.py:2 imports cnn_lab.engine.optim"]


def project_modules(root: Path, tops: tuple[str, ...] = ("cnn_lab", "benchmarks")) -> dict[str, Path]:
    """Every module of the project's packages under ``root`` by its dotted name (a package by its __init__.py)."""
    found = {}
    for top in tops:
        for path in (root / top).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph(found: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project's modules it imports, at its top or inside a function (a cycle through a function-level
    import is still a cycle: the two modules cannot be read, tested or moved apart)."""
    edges = {}
    for name, path in found.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        out = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                out |= {alias.name for alias in node.names if alias.name in found}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                for alias in node.names:  # a module imported from its package, or a name from a module
                    out.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in found else base)
        edges[name] = (out & set(found)) - {name}
    return edges


def import_cycles(edges: dict[str, set[str]]) -> list[str]:
    """Each cycle found by a depth-first walk, as "a -> b -> a"."""
    seen, path, cycles = set(), [], []

    def visit(module: str) -> None:
        seen.add(module)
        path.append(module)
        for other in sorted(edges[module]):
            if other in path:
                cycles.append(" -> ".join([*path[path.index(other) :], other]))
            elif other not in seen:
                visit(other)
        path.pop()

    for module in sorted(edges):
        if module not in seen:
            visit(module)
    return cycles


def test_no_two_modules_import_each_other_even_inside_a_function():
    assert import_cycles(import_graph(project_modules(PACKAGE.parent))) == []


def test_the_cycle_check_sees_one_through_a_function_level_import(tmp_path):
    fake = tmp_path / "cnn_lab" / "data"
    fake.mkdir(parents=True)
    (fake.parent / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "datasets.py").write_text("def load():\n    from cnn_lab.data.uploads import read\n")
    (fake / "uploads.py").write_text("from .datasets import load\n")
    (fake / "framing.py").write_text("from cnn_lab.data import datasets\n")  # one way only: no cycle
    assert import_cycles(import_graph(project_modules(tmp_path, ("cnn_lab",)))) == [
        "cnn_lab.data.datasets -> cnn_lab.data.uploads -> cnn_lab.data.datasets"
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
