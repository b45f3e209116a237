"""Re-run nbval over the chapter notebooks under floating-point kernels other than this machine's default.

A stored output must not depend on the CPU: the same notebook run with a different OpenBLAS kernel
(``OPENBLAS_CORETYPE``) or a different torch instruction set (``ATEN_CPU_CAPABILITY``) must print the
same text. This script finds the kernels the machine uses by default, picks two OpenBLAS kernels and two
torch capabilities that differ from them and that this CPU can run, and runs one nbval process per
variant, side by side. It exits non-zero if any variant fails.

OpenBLAS kernels tried, in order: Haswell (AVX2), SandyBridge (AVX), Nehalem (SSE4.2). torch capabilities:
``default`` (no vector extensions), ``avx2``, ``avx512`` (x86-64 only). On other architectures the script
falls back to the torch ``default`` capability and skips the OpenBLAS override.

Usage: ``python scripts/portable.py [--jobs 2] [NOTEBOOK ...]`` (default: every ``book/*.ipynb``).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBVAL = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", "book/nbval_sanitize.cfg",
         "--nbval-cell-timeout", "600"]
# OpenBLAS kernel -> the CPU flag it needs
BLAS_KERNELS = {"Haswell": "avx2", "SandyBridge": "avx", "Nehalem": "sse4_2"}
TORCH_CAPABILITIES = {"avx2": "avx2", "avx512": "avx512f", "default": None}


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def default_kernels() -> tuple[str, str]:
    """The OpenBLAS kernel and torch capability this machine uses without overrides."""
    code = ("import numpy, scipy.linalg, torch; from threadpoolctl import threadpool_info; "
            "print([i.get('architecture') for i in threadpool_info() if i['internal_api'] == 'openblas'][0]); "
            "print(torch.backends.cpu.get_cpu_capability())")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    blas, torch_cap = out.stdout.split()
    return blas, torch_cap


def variants() -> list[dict[str, str]]:
    blas_default, torch_default = default_kernels()
    flags = cpu_flags()
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    blas = [k for k, flag in BLAS_KERNELS.items() if x86 and flag in flags and k.lower() != blas_default.lower()]
    torch_caps = [c for c, flag in TORCH_CAPABILITIES.items()
                  if c.lower() != torch_default.lower() and (flag is None or (x86 and flag in flags))]
    print(f"default kernels: OpenBLAS {blas_default}, torch {torch_default}", flush=True)
    chosen = []
    for k in range(2):
        env = {"ATEN_CPU_CAPABILITY": torch_caps[k % len(torch_caps)]} if torch_caps else {}
        if len(blas) > k:
            env["OPENBLAS_CORETYPE"] = blas[k]
        if env:
            chosen.append(env)
    if len(blas) < 2:
        print("note: fewer than two alternative OpenBLAS kernels run on this CPU", flush=True)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to check (default: every book/*.ipynb)")
    parser.add_argument("--jobs", type=int, default=2, help="variants run at the same time (default 2)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(str(p.relative_to(ROOT)) for p in (ROOT / "book").glob("*.ipynb"))
    pending = variants()
    running: list[tuple[str, subprocess.Popen, Path, float]] = []
    failed = []
    logdir = ROOT / "_build" / "portable"
    logdir.mkdir(parents=True, exist_ok=True)
    while pending or running:
        while pending and len(running) < args.jobs:
            extra = pending.pop(0)
            label = " ".join(f"{k}={v}" for k, v in extra.items())
            log = logdir / ("_".join(extra.values()) + ".log")
            cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *NBVAL, *notebooks]
            proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **extra},
                                    stdout=log.open("w"), stderr=subprocess.STDOUT)
            print(f"started: {label} (log {log.relative_to(ROOT)})", flush=True)
            running.append((label, proc, log, time.monotonic()))
        time.sleep(1)
        for item in list(running):
            label, proc, log, start = item
            if proc.poll() is None:
                continue
            running.remove(item)
            summary = log.read_text().strip().splitlines()[-1:] or ["(no output)"]
            status = "passed" if proc.returncode == 0 else f"FAILED (rc {proc.returncode})"
            print(f"{status}: {label} in {time.monotonic() - start:.0f} s: {summary[0]}", flush=True)
            if proc.returncode != 0:
                failed.append(label)
                print(log.read_text()[-6000:], flush=True)
    if failed:
        print(f"portability check failed under: {'; '.join(failed)}")
        return 1
    print("portability check passed: every stored output reproduced under every variant")
    return 0


if __name__ == "__main__":
    sys.exit(main())
