"""Every number a chapter's text states is printed in that chapter's stored outputs, or is listed here.

A decimal number, a number in scientific notation or a comma-grouped integer in a markdown cell passes when

* it is printed by the chapter (commas ignored: "4,083" matches a printed 4083), or
* it has at least three significant digits and some printed number rounds to it (the text quotes 0.0293 for a
  printed 0.02925), or
* it is listed in ``ROUNDED`` with the printed number it rounds (to fewer than three significant digits, which
  the automatic rule above does not accept): the test finds that number among the outputs and checks the rounding, or
* it is listed in ``DERIVED`` with the printed numbers it is computed from and the computation, which this test
  repeats, or
* it is listed in ``GIVEN``: a number that is not an output of the chapter (a number quoted from the paper or
  another source, an equation or theorem number, a setting of the run), with the reason.

Listed entries that no longer occur in the chapter's text fail too, so the lists cannot go stale. The
introduction's claims table has its own, row-by-row test in ``tests/test_book.py``.
"""

import json
import math
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
NUMBER = re.compile(r"(?<![\w.$\\^_{])(\d{1,3}(?:,\d{3})+|\d+\.\d+(?:e[+-]?\d+)?|\d+e[+-]?\d+)(?!\w|\.\d)")
PRINTED = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+\.?\d*(?:e[+-]?\d+)?)")

YEAR_S = 365.25 * 24 * 3600
DAY_S = 24 * 3600

# chapter -> {number in the text: why it is not an output of the chapter}
GIVEN = {
    "01_carleman": {
        "2011.03185": "arXiv identifier of the PNAS paper",
        "4.29": "equation number in the PNAS paper",
        "0.2": "||F0|| of the two-dimensional R example, a parameter of the toy problem (F0 = (0.12, -0.16))",
        "3,999": "the Euler steps of PNAS's Burgers problem, a setting (burgers(nt=4000): 4,000 time points)",
    },
    "02_gradient_descent": {
        "0.1": "the learning rate eta of the cubic toy problem, a setting",
        "0.5": "the negative Hessian eigenvalue lambda_- = -0.5 of the divergent toy case, a setting",
        "0.05": "the learning rate eta of the pruned network's run, a setting",
    },
    "03_upload": {
        "0.1": "the fraction of weights kept, a setting",
    },
    "04_hhl": {
        "0.2": "the learning rate eta of the two Eq. 6 instances, a setting",
        "0.1": "alpha of instance 2 and the epsilon of the clock-size example (7 qubits for kappa = 5), settings",
    },
    "05_tomography": {
        "4.1": "algorithm number in Kerenidis and Prakash",
        "4.3": "theorem number in Kerenidis and Prakash",
        "0.83": "the failure exponent of Kerenidis and Prakash's Theorem 4.3",
        "0.2": "the learning rate eta of the downloaded gradient-descent run, a setting",
    },
    "06_theorems": {
        "0.05": "rho - 1 of the divergent case rho = 1.05, a setting of the claims cell",
        "0.01": "chapter 8's tomography precision eps, a setting of its cost cell (printed there: 'eps = 0.01')",
        "0.1": "the learning rate eta of the pruned network's run, a setting",
    },
    "07_experiments": {
        "60,000": "the size of Fashion-MNIST's training set",
        "50,000": "the size of CIFAR-100's training set",
        "2e-4": "the weight decay of pre-training, a setting (printed as 0.0002)",
        "0.005": "the tolerance of the Lanczos check's assert",
        "0.10": "chance accuracy for ten classes",
        "0.67": "the paper's training accuracy 30 steps after pruning (Fig. 2c, read off)",
    },
    "08_pipeline": {
        "99.9": "the confidence of the tomography bound, a setting",
        "4,096": "the size above which a segment runs matrix-free, a setting (DECOMPOSITION_LIMIT)",
    },
    "09_resources": {
        "0.1": "chapter 8's learning rate, a setting",
        "55.9": "chapter 8's largest condition number, printed there ('kappa(Eq. 6) = 55.9', 'measured kappa <= 55.9') "
                "and read from book/data/chapter8.json (checked in test_book.py)",
        "28.87": "chapter 6's measured condition number (T = 20) that its 7.45M run uses, printed there "
                 "('kappa = 28.87 (measured, T = 20)')",
        "0.638": "the maximum of the inverse polynomial over sqrt(b), max_c (1 - exp(-c^2))/c, a constant of "
                 "qsgd.physical",
    },
}

# chapter -> {number in the text: the printed number it rounds}; for numbers of one or two significant digits,
# which the rounding rule above leaves out (a printed 0.3464 is quoted as "about 0.35")
ROUNDED = {
    "07_experiments": {
        "0.65": "0.6506",  # the lowest accuracy ten steps after a download
        "0.73": "0.7311",  # the lowest accuracy twenty steps after a download
    },
    "02_gradient_descent": {
        "2.2": "2.23",  # growth rates of the divergent case in units of log(1 + eta|lambda_-|)
        "3.4": "3.38",
        "4.5": "4.53",
        "5.7": "5.68",
        "0.35": "0.3464",  # |theta_GD(T) - theta_0| of the pruned network
    },
    "03_upload": {
        "1.2": "1.20",  # log-log slope of the CNOTs in s
        "1.1": "1.093",  # growth per added qubit
    },
    "04_hhl": {
        "0.6": "0.5878",  # P(t = T, level 1), classical, N = 1
        "0.59": "0.5875",  # converging run, p = T, at T = 32
        "0.04": "0.0426",  # smallest default-scaling success probability (N = 1, c = 5)
        "0.24": "0.2421",  # largest default-scaling success probability (N = 1, c = 4)
    },
    "05_tomography": {
        "0.1": "0.1114",  # the error at which test accuracy starts to fall (0.9594; 0.9636 at 0.0504, 0.9639 at 0)
    },
    "06_theorems": {
        "0.22": "0.2227",  # R of the Lemma 3/5 example
        "0.2": "0.2167",  # P with p = m (0.1889 to 0.2217)
        "0.52": "0.5181",  # forced run, p = T: smallest P (T = 128)
        "0.67": "0.6667",  # forced run, p = T: largest P (T = 4)
        "0.09": "0.0932",  # divergent run, p = 0, at T = 128
        "0.03": "0.03195",  # smallest eta*lambda_max of the checkpoints
    },
    "08_pipeline": {
        "0.7": "0.688",  # a priori solver state error of segment 0
        "0.35": "3.53e-01",  # measured Taylor error of segment 0
        "0.99": "0.9917",  # classical GD's test accuracy
        "0.004": "3.82e-03",  # solver error of the 200-weight run's first segment
        "0.042": "4.21e-02",  # tomography error of the same segment
        "0.002": "0.00179",  # smallest P_succ of the 200-weight runs
        "0.11": "0.112",  # largest P_succ of the 200-weight runs
    },
}

# chapter -> {number in the text: (printed numbers it is computed from, computation, reason)}; the test finds
# every input among the chapter's printed numbers and checks that the computation rounds to the text's number
DERIVED = {
    "07_experiments": {
        "5.6": (("86.79", "485.9"), lambda neg, pos: pos / neg,
                "lambda_max / |lambda_min| ten steps after pruning, the smallest of the printed ratios"),
        "2.5": (("0.000251",), lambda eta: eta * 1e4, "the learning rate closest to the paper's E(100), in 1e-4"),
    },
    "01_carleman": {
        "3.4": (("1.028", "1.016", "1.009", "1.034"), lambda *r: 100 * max(abs(x - 1) for x in r),
                "largest deviation in % of the four error ratios to the PNAS figure"),
    },
    "02_gradient_descent": {
        "2.5": (("1.95", "2.96", "3.97", "4.98"),
                lambda a, b, c, d: 100 * max(abs(a / 2 - 1), abs(b / 3 - 1), abs(c / 4 - 1), abs(d / 5 - 1)),
                "largest deviation in % of the error rates (in units of the Jacobian rate) from N + 1"),
        "1.9": (("576",), lambda nnz: nnz**3 / 1e8, "non-zeros of (I + F1)^(x)3, 576^3, in units of 10^8"),
        "1.7": (("20", "8487376"), lambda T, nnz: T * nnz / 1e8,
                "T nnz(C) of Eq. 6 at N = 3 (T = 20 steps), in units of 10^8"),
    },
    "04_hhl": {
        "0.01": (("0.1370", "0.1371", "0.3883", "0.3810", "0.5878", "0.5876", "0.8508", "0.8501"),
                 lambda *p: math.ceil(max(abs(a - b) for a, b in zip(p[::2], p[1::2])) * 100) / 100,
                 "largest difference between the classical and the HHL probabilities at T = 3, rounded up"),
        "0.99": (("0.99706", "0.99930", "0.99988", "1.00000", "0.99670", "0.99776", "0.99816", "0.99999", "0.99956",
                  "0.99977", "0.99997", "0.99976", "0.99861", "0.99990", "0.99995"),
                 lambda *f: math.floor(min(f) * 100) / 100,
                 "lower bound on every fidelity of the clock sweep: the smallest, 0.99670, rounded down"),
        "3.5": (("0.0426", "0.0922", "0.1259", "0.1445", "0.0598", "0.1243", "0.1171", "0.1172",
                 "0.3396", "0.4305", "0.4875", "0.6093", "0.5327", "0.4391", "0.4537", "0.5006"),
                lambda *p: min(b / a for a, b in zip(p[:8], p[8:])),
                "smallest ratio of the largest-P to the default success probability for c = 5..8"),
        "8.9": (("0.0426", "0.0922", "0.1259", "0.1445", "0.0598", "0.1243", "0.1171", "0.1172",
                 "0.3396", "0.4305", "0.4875", "0.6093", "0.5327", "0.4391", "0.4537", "0.5006"),
                lambda *p: max(b / a for a, b in zip(p[:8], p[8:])),
                "largest ratio of the largest-P to the default success probability for c = 5..8"),
        "0.84": (("0.0055",), lambda b: (9 * 5 * b) ** (1 / 8),
                 "per-step shrink of |u(t)| in the decaying run: the Lemma 5 bound at T = 4, p = 0, N = 1 is "
                 "|u(T)|^2 / (9 (T + 1) |u_in|^2), so |u(4)|/|u_in| = sqrt(45 b), a fourth root per step"),
    },
    "05_tomography": {
        "3.2": (("1218", "375"), lambda m, est: m / est,
                "largest ratio of the measured N to (d-1)/(4 eps^2) (d = 16, eps = 0.1)"),
    },
    "06_theorems": {
        "1.06": (("0.2857", "0.16", "0.0815", "0.0385", "0.0175", "0.0083"),
                 lambda *p: min(T * x for T, x in zip((4, 8, 16, 32, 64, 128), p)),
                 "smallest T * P(last) of the forced run without padding, T = 4..128"),
        "1.30": (("0.2857", "0.16", "0.0815", "0.0385", "0.0175", "0.0083"),
                 lambda *p: max(T * x for T, x in zip((4, 8, 16, 32, 64, 128), p)),
                 "largest T * P(last) of the forced run without padding, T = 4..128"),
        "6.3": (("0.006301",), lambda x: x * 1e3, "-eta lambda_min at step 0, in units of 10^-3"),
        "2.0": (("0.001979",), lambda x: x * 1e3, "-eta lambda_min at step 200, in units of 10^-3"),
        "18,000": (("9.63e+11", "5.3e+07"), lambda hhl, cks: hhl / cks,
                   "HHL over CKS queries at 100 kappa, the largest of the HHL ratios"),
        "9.2": (("9.24e-05",), lambda x: x * 1e5, "classical/quantum of set A at 7.45M, in units of 10^-5"),
    },
    "08_pipeline": {
        "0.9": (("1.091",), lambda rho: (rho - 1) / 0.1,
                "lowest Hessian eigenvalue at theta = 0 from rho = 1 + eta |lambda_min| (eta = 0.1; the negative "
                "end sets rho: lambda_min = -0.906, lambda_max = 3.37)"),
        "2.6": (("154",), lambda s: s / 60, "shortest segment of the stored runs, 154 s, in minutes"),
        "5.7": (("340",), lambda s: s / 60, "longest segment of the stored runs, 340 s, in minutes"),
    },
    "09_resources": {
        "1.6": (("1.553e+06",), lambda q: q / 1e6, "physical qubits of set A at 7.45M, 1e-3, in millions"),
        "0.43": (("4.332e+05",), lambda q: q / 1e6, "physical qubits of set A at 7.45M, 1e-4, in millions"),
        "3.6": (("3.085e+05",), lambda s: s / DAY_S, "one run of set A at 7.45M, 1e-3, in days"),
        "1.8": (("1.596e+05",), lambda s: s / DAY_S, "one run of set A at 7.45M, 1e-4, in days"),
        "15,000": (("4.628e+11",), lambda s: s / YEAR_S, "1,000 steps of set A at 7.45M, 1e-3, in years"),
        "7,600": (("2.394e+11",), lambda s: s / YEAR_S, "1,000 steps of set A at 7.45M, 1e-4, in years"),
        "2.3": (("2.28e+15",), lambda D: D / 1e15, "dimension D of set A at 7.45M, in units of 10^15"),
    },
}


def _outputs(nb) -> str:
    parts = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            data = out.get("data", {})
            parts.append("".join(data.get("text/plain", "")))
            parts.append("".join(data.get("text/html", "")))
    return "\n".join(parts)


def _value(text: str) -> float:
    return float(text.replace(",", ""))


def _significant(text: str) -> int:
    mantissa = text.replace(",", "").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa)


def _rounds_to(value: float, text: str) -> bool:
    """``value`` written with the precision of ``text`` is ``text``."""
    target = _value(text)
    if "e" in text:
        digits = _significant(text) - 1
        return f"{value:.{digits}e}" == f"{target:.{digits}e}"
    decimals = len(text.split(".")[1]) if "." in text else 0
    if decimals == 0:  # an integer such as 15,000: as many significant digits as it shows
        sig = max(len(text.replace(",", "").rstrip("0")), 1)
        return value != 0 and math.isclose(float(f"{value:.{sig}g}"), target)
    return round(value, decimals) == round(target, decimals)


def _chapters():
    return sorted(p.stem for p in BOOK.glob("[0-9][0-9]_*.ipynb"))


def _numbers_in_text(nb):
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            for match in NUMBER.finditer("".join(cell["source"])):
                yield i, match.group(1)


@pytest.mark.parametrize("chapter", _chapters())
def test_every_number_in_the_text_is_printed_derived_or_given(chapter):
    nb = json.loads((BOOK / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    out = _outputs(nb)
    printed_text = set(out.replace(",", "").split())
    printed = []
    for token in PRINTED.findall(out):
        try:
            printed.append(abs(_value(token)))
        except ValueError:
            continue
    given, rounded, derived = GIVEN.get(chapter, {}), ROUNDED.get(chapter, {}), DERIVED.get(chapter, {})
    unexplained, seen = [], set()
    for i, number in _numbers_in_text(nb):
        seen.add(number)
        if number in given or number in rounded or number in derived:
            continue
        plain = number.replace(",", "")
        if plain in out.replace(",", "") and (plain in printed_text or re.search(rf"(?<![\d.]){re.escape(plain)}(?![\d])",
                                                                                 out.replace(",", ""))):
            continue
        if _significant(number) >= 3 and any(_rounds_to(v, number) for v in printed):
            continue
        unexplained.append((i, number))
    assert not unexplained, (
        f"{chapter}: numbers in the text that the chapter does not print (markdown cell, number): {unexplained}; "
        "print them, correct the text, or list them in GIVEN/ROUNDED/DERIVED with the reason"
    )
    for number, printed_number in rounded.items():
        assert re.search(rf"(?<![\d.]){re.escape(printed_number)}(?![\d])", out), (
            f"{chapter}: {printed_number} (rounded to {number}) not printed")
        assert _rounds_to(_value(printed_number), number), f"{chapter}: {printed_number} does not round to {number}"
    for number, (inputs, compute, reason) in derived.items():
        for x in inputs:
            assert re.search(rf"(?<![\d.]){re.escape(x)}(?![\d])", out), f"{chapter}: {x} (input of {number}) not printed"
        value = compute(*[_value(x) for x in inputs])
        assert _rounds_to(value, number), f"{chapter}: {number} ({reason}) but the computation gives {value}"
    stale = sorted((set(given) | set(rounded) | set(derived)) - seen)
    assert not stale, f"{chapter}: listed numbers no longer in the text: {stale}"
