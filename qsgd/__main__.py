"""Command line: ``python -m qsgd experiments ...`` runs the Fig. 2 protocol,
``python -m qsgd plot RUN_DIR`` plots a finished run, ``torchrun ... -m qsgd spectrum ...``
computes a Hessian spectrum data-parallel."""

from __future__ import annotations

import sys

from qsgd.experiments import main as experiments_main


def main(argv: list[str] | None = None) -> int:
    """``python -m qsgd experiments|plot|spectrum ...``: :func:`qsgd.experiments.main`."""
    return experiments_main(argv)


if __name__ == "__main__":
    sys.exit(main())
