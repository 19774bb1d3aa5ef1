"""The package's layout holds: subpackages by layer, each saying its job; a few top-level modules; the
data flowing one way (a layer imports only the layers below it); no module importing another's private name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pyimportance"

# Each top-level module or subpackage and its layer: a module may import only from lower layers
# (or from its own subpackage). The lazy imports inside functions count too.
LAYERS = {
    "terms": 0, "errors": 0,
    "settings": 1,
    "data": 2, "datasets": 2,
    "model": 3, "methods": 3, "scoring": 3, "stats": 3,
    "engine": 4,
    "plotting": 5,
    "result": 6,
    "api": 7, "shapley": 7, "sensitivity": 7,
    "registry": 8,
    "demo": 8,
    "cli": 9, "rlayer": 9,
    "rbridge": 10,
}


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def _part_of(path: Path) -> str:
    """The top-level module or subpackage a file belongs to."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imports(path: Path):
    """(imported module as a dotted path inside pyimportance, or None for other packages; names) of every import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = package[:-1] if path.name != "__init__.py" else package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + tuple(node.module.split(".") if node.module else ()))
            else:
                module = node.module or ""
            yield (module if module.split(".")[0] == "pyimportance" else None), [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "pyimportance":
                    yield alias.name, []


def test_the_package_has_a_few_top_level_modules_and_one_subpackage_per_layer():
    modules = sorted(path.stem for path in PACKAGE.glob("*.py"))
    packages = sorted(path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists())
    assert len(modules) <= 10, modules
    assert packages == ["cli", "data", "datasets", "engine", "methods", "model", "rlayer", "scoring", "sensitivity",
                        "shapley", "stats"]
    assert set(LAYERS) == {*modules, *packages} - {"__init__"}


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_every_module_says_its_job_in_its_docstring(path):
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring and len(docstring.split()) >= 8, f"{path.relative_to(PACKAGE)} needs a docstring saying its job"


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_imports_a_private_name_of_another(path):
    private = [(module, name) for module, names in _imports(path) if module for name in names
               if name.startswith("_") and name != "__version__"]
    assert private == []


@pytest.mark.parametrize("path", [p for p in _modules() if p.parent != PACKAGE or p.name != "__init__.py"],
                         ids=lambda path: str(path.relative_to(PACKAGE)))
def test_a_layer_imports_only_the_layers_below_it(path):
    own = _part_of(path)
    higher = []
    for module, names in _imports(path):
        if not module:
            continue
        # ``from .. import terms``: the names are the modules (``__version__`` is the package's own)
        targets = [f"{module}.{name}" for name in names if name != "__version__"] if module == "pyimportance" \
            else [module]
        for target in targets:
            other = target.split(".")[1]
            if other != own and LAYERS[other] >= LAYERS[own]:
                higher.append(target)
    assert higher == [], f"{own} (layer {LAYERS[own]}) imports {higher}"


def test_no_two_modules_share_a_name():
    """Searching the code by a module's name finds that module (the subpackages' __init__ aside)."""
    names = [path.stem for path in _modules() if path.name != "__init__.py"]
    assert sorted({name for name in names if names.count(name) > 1}) == []
