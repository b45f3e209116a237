"""The package's public surface: lazy submodules, version, table of contents."""

import importlib
import subprocess
import sys

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


def test_public_names_are_reachable_from_the_top_level():
    """Every name a stage defines and lists in ``__all__`` is a lazy attribute of ``qsgd``."""
    names = qsgd._public_names()
    assert names["hhl_solve"] == "hhl" and names["cost_model"] == "cost"
    for name, stage in names.items():
        module = importlib.import_module(f"qsgd.{stage}")
        assert name in module.__all__
        assert getattr(qsgd, name) is getattr(module, name)
    assert "hhl_solve" in dir(qsgd)


def test_top_level_names_stay_lazy():
    code = "import sys, qsgd; qsgd._public_names(); print(any(m in sys.modules for m in ('torch', 'qiskit')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ambiguous_names_stay_in_their_stages():
    # upload and tomography each define their own MAX_QUBITS: the top level does not guess
    assert "MAX_QUBITS" not in qsgd._public_names()
    with pytest.raises(AttributeError):
        qsgd.MAX_QUBITS  # noqa: B018
