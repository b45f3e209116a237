"""The package's public surface: lazy submodules, version, table of contents."""

import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import qsgd


def test_version():
    assert qsgd.__version__.count(".") == 2


def test_import_is_cheap():
    """`import qsgd` must not pull torch or qiskit (they load with the stage that needs them)."""
    code = "import sys, qsgd; print(any(m in sys.modules for m in ('torch', 'qiskit')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", qsgd._SUBMODULES)
def test_every_listed_stage_exists_and_is_documented(name):
    module = importlib.import_module(f"qsgd.{name}")
    assert getattr(qsgd, name) is module
    assert module.__doc__ and module.__doc__.strip()
    assert f"qsgd.{name}" in qsgd.__doc__


def test_unknown_attribute():
    with pytest.raises(AttributeError):
        qsgd.not_a_stage  # noqa: B018


def _name_table():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import name_table
    finally:
        sys.path.pop(0)
    return name_table


ROOT = Path(__file__).resolve().parents[1]


def test_the_name_table_is_the_one_the_modules_define():
    """``qsgd._NAMES`` is written out in ``qsgd/__init__.py``; it must equal what the modules' ``__all__`` say."""
    table = _name_table()
    assert qsgd._NAMES == table.table()
    assert table.render() in (ROOT / "qsgd" / "__init__.py").read_text(encoding="utf-8")


def test_the_name_table_refuses_a_name_defined_twice(tmp_path, monkeypatch):
    table = _name_table()
    for stage in ("a", "b"):
        (tmp_path / f"{stage}.py").write_text('__all__ = ["same"]\nsame = 1\n', encoding="utf-8")
    monkeypatch.setattr(table, "ROOT", tmp_path)
    with pytest.raises(SystemExit, match="same: a and b"):
        table.table()


def test_public_names_are_reachable_from_the_top_level():
    """Every name in the table is a lazy attribute of ``qsgd``, the object its module defines."""
    names = qsgd._NAMES
    assert names["hhl_solve"] == "hhl.solve" and names["training_cost"] == "cost"
    assert names["decompose"] == "decomposition" and names["SOLVERS"] == "solvers"
    for name, module_name in names.items():
        module = importlib.import_module(f"qsgd.{module_name}")
        assert name in module.__all__
        assert getattr(qsgd, name) is getattr(module, name)
    assert "hhl_solve" in dir(qsgd)


def test_top_level_names_stay_lazy():
    code = "import sys, qsgd; qsgd._NAMES; import qsgd.hhl; print(any(m in sys.modules for m in ('torch', 'qiskit')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_module_compiles_without_warnings():
    """Invalid escape sequences (docstrings that should be raw) warn only when a module is compiled
    from source, i.e. after a cache clear: compile every file with warnings as errors."""
    for path in sorted((ROOT / "qsgd").rglob("*.py")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_importing_every_module_raises_no_deprecation_warning():
    modules = ["qsgd"] + [f"qsgd.{m}" for m in qsgd._SUBMODULES] + [f"qsgd.hhl.{m}" for m in qsgd.hhl.MODULES]
    code = "import importlib\nfor m in %r:\n    importlib.import_module(m)\n" % modules
    subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code], capture_output=True, text=True,
                   check=True)
