"""Re-execute chapter notebooks in place, deterministically.

Usage: python scripts/execute_notebooks.py [--jobs J] [--timeout S] book/*.ipynb

Each notebook runs top to bottom in a fresh kernel of the current Python, with
its own directory as working directory. The outputs are written back into the
notebook, and everything volatile is stripped so that running this twice leaves
``git status`` clean: execution timestamps, the kernel's Python patch version,
widget state. Seeds live in the notebooks themselves; the thread counts and
``PYTHONHASHSEED`` are fixed by the Makefile.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KEEP_NOTEBOOK_METADATA = ("kernelspec", "language_info", "mystnb", "nbval")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip the metadata that changes from run to run."""
    nb.metadata = nbformat.NotebookNode(
        {k: v for k, v in nb.metadata.items() if k in KEEP_NOTEBOOK_METADATA}
    )
    nb.metadata["kernelspec"] = nbformat.NotebookNode(KERNELSPEC)
    nb.metadata["language_info"] = nbformat.NotebookNode(LANGUAGE_INFO)
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
        cell["id"] = f"cell-{index:03d}"
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
            for output in cell.outputs:
                output.get("metadata", {}).pop("execution", None)
    return nb


def merge_streams(outputs: list) -> list:
    """Join consecutive stream outputs of the same stream.

    How a cell's printed text is split into stream messages depends on when
    the kernel flushed, which varies from run to run; the text does not.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = "".join(previous["text"]) + "".join(output["text"])
        else:
            merged.append(output)
    return merged


def execute(path: str, timeout: int) -> tuple[str, float]:
    start = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    client.execute()
    nbformat.write(clean(nb), path)
    return path, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)
    failed = False
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(execute, nb, args.timeout): nb for nb in args.notebooks}
        for future, nb in futures.items():
            try:
                path, seconds = future.result()
                print(f"executed {path} in {seconds:.1f} s", flush=True)
            except Exception as exc:  # report every failing notebook, then fail
                failed = True
                print(f"FAILED {nb}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
