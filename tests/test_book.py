"""The rendered book: the introduction's claims table against the chapters' stored outputs, and the HTML.

The table "What is checked, and where" in ``book/intro.ipynb`` quotes numbers that the chapters print.
``CLAIMS`` below lists, for every row, the chapter and the numbers it quotes: each must appear in that
row of the table *and* in the stored outputs of that chapter. Every decimal number or comma-grouped
integer in a row must be listed, either as printed by the chapter (``printed``) or as a value that is not
the chapter's output, such as a number from the paper or a parameter of the run (``given``). A chapter
that changes its printed numbers fails here until its row (text and entry) is updated.

The HTML test builds the book into a temporary folder and fails if a page would need the network to
render its equations, or shows raw TeX where MathJax does not run (page titles and link texts).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"


@dataclass(frozen=True)
class Claim:
    chapter: str  # notebook name without .ipynb
    printed: tuple[str, ...]  # quoted in the row and printed in the chapter's stored outputs
    given: tuple[str, ...] = ()  # quoted in the row, not a chapter output (the paper's value, a parameter)


CLAIMS = {
    1: Claim("01_carleman", ("0.1233", "0.05895", "0.02925", "0.01551"), ("43.6", "0.12", "0.058", "0.029", "0.015", "3.4")),
    2: Claim("01_carleman", (), ("0.3", "0.6", "0.9")),
    3: Claim("01_carleman", ("0.384", "0.0011")),
    4: Claim("02_gradient_descent", ()),
    5: Claim("02_gradient_descent", ("2.0000",)),
    6: Claim("02_gradient_descent", ("0.015", "0.0166", "0.0207", "2.23", "3.38", "4.53", "5.68", "1.14")),
    7: Claim("02_gradient_descent", ("18.88", "19", "0.0488"), ("0.9", "1.05")),
    8: Claim("06_theorems", ("121.3", "387", "0.2217", "0.003922")),
    9: Claim("04_hhl", ("0.99706", "0.99999")),
    10: Claim("02_gradient_descent", ("0.365",)),
    11: Claim("03_upload", ("33", "36", "4083", "123.7")),
    12: Claim("05_tomography", ("0.5318", "0.006")),
    13: Claim("07_experiments", ("0.0308", "0.0086", "0.0064", "0.0128", "120.7", "77,754", "2.45")),
    14: Claim("07_experiments", ("1.08e+50", "0.0001", "0.00631", "0.000251", "1.157", "0.9947", "0.01"), ("0.97", "0.98", "1.14", "0.4")),
    15: Claim("07_experiments", ("0.8976", "0.1028", "0.6931", "0.3791", "0.6412", "0.1555", "0.4366", "0.2370", "0.7997"), ("0.02", "0.67", "0.11", "0.61", "0.24", "0.70", "0.72")),
    16: Claim("07_experiments", ("7,451,044", "23")),
    17: Claim("01_carleman", ("43.59",)),
    18: Claim("06_theorems", ("1.24e+11", "9.24e-05", "2.97e+08"), ("1.84", "7.45")),
    19: Claim("08_pipeline", ("0.3417", "0.9833", "1.428e+08", "7.63e+12", "223,300", "0.425", "0.857"), ("0.1",)),
}

NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d*\.\d+(?:e[+-]\d+)?)(?![\d])")


def _cells(name: str) -> list[dict]:
    return json.loads((BOOK / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]


def _claims_table() -> dict[int, str]:
    """Row number -> row text of the intro's claims table."""
    rows = {}
    for cell in _cells("intro"):
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            match = re.match(r"\|\s*(\d+)\s*\|", line)
            if match:
                rows[int(match.group(1))] = line
    return rows


def _outputs(name: str) -> str:
    """All text a chapter's stored outputs show: streams and text/plain results."""
    parts = []
    for cell in _cells(name):
        for out in cell.get("outputs", []):
            if "text" in out:
                parts.append("".join(out["text"]))
            elif "data" in out and "image/png" not in out["data"]:
                parts.append("".join(out["data"].get("text/plain", "")))
    return "\n".join(parts)


def _appears(number: str, text: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", text) is not None


def test_every_table_row_has_an_entry():
    rows = _claims_table()
    assert rows, "no claims table found in book/intro.ipynb"
    assert sorted(rows) == sorted(CLAIMS), (
        f"rows of the intro's claims table {sorted(rows)} and entries of CLAIMS in tests/test_book.py "
        f"{sorted(CLAIMS)} differ: add or remove the entry"
    )


@pytest.mark.parametrize("row", sorted(CLAIMS))
def test_claims_table_row_quotes_the_chapter(row):
    claim = CLAIMS[row]
    text = _claims_table().get(row)
    assert text is not None, f"claims table row {row} is missing from book/intro.ipynb"
    status = text.rstrip(" |").rsplit("|", 1)[-1]
    assert f"{{doc}}`{claim.chapter}`" in text, f"claims table row {row} does not name chapter {claim.chapter}"
    for number in claim.printed + claim.given:
        assert _appears(number, text), f"claims table row {row}: the entry lists {number}, the row does not quote it"
    outputs = _outputs(claim.chapter)
    missing = [number for number in claim.printed if not _appears(number, outputs)]
    assert not missing, (
        f"claims table row {row} quotes {', '.join(missing)}, which chapter {claim.chapter} does not print "
        f"in its stored outputs: update the row and its entry in tests/test_book.py"
    )
    unlisted = [n for n in NUMBER.findall(status) if n not in claim.printed + claim.given]
    assert not unlisted, (
        f"claims table row {row} quotes {', '.join(unlisted)}, which its entry in tests/test_book.py does not "
        f"list: add it to `printed` (checked against chapter {claim.chapter}) or to `given`"
    )


# ----------------------------------------------------------------------------------------------------
# the rendered HTML

RAW_TEX = re.compile(r"\\[A-Za-z]+|\$[^$]+\$|\^\{|_\{")


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    """Build the HTML book (stored outputs, no execution) into a temporary folder."""
    bs4 = pytest.importorskip("bs4")
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    if jupyter_book is None:
        pytest.skip("jupyter-book is not installed (the `book` extra)")
    out = tmp_path_factory.mktemp("book")
    run = subprocess.run(
        [jupyter_book, "build", str(ROOT), "--builder", "html", "--path-output", str(out), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert run.returncode == 0, f"the HTML build failed or warned:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    site = out / "_build" / "html"
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)
    assert pages
    return site, {p: bs4.BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser") for p in pages}


def test_mathjax_is_loaded_from_the_book_itself(html):
    site, pages = html
    for path, soup in pages.items():
        sources = [s["src"] for s in soup.find_all("script", src=True) if "mathjax" in s["src"].lower()]
        if not soup.find(class_="math"):
            continue
        assert sources, f"{path.relative_to(site)} has equations but loads no MathJax"
        for src in sources:
            assert not re.match(r"^(https?:)?//", src), f"{path.relative_to(site)} loads MathJax from the network: {src}"
            assert (path.parent / src.split("?")[0]).is_file(), f"{path.relative_to(site)}: {src} is not in the build"


def _text_outside_math(element) -> str:
    for math in element.find_all(class_="math"):  # MathJax typesets these spans
        math.decompose()
    return element.get_text(" ", strip=True)


def test_no_raw_tex_in_titles_and_link_texts(html):
    site, pages = html
    problems = []
    for path, soup in pages.items():
        title = soup.title.get_text() if soup.title else ""
        if RAW_TEX.search(title):
            problems.append(f"{path.relative_to(site)}: <title> {title!r}")
        for link in soup.find_all("a"):
            text = _text_outside_math(link)
            if RAW_TEX.search(text):
                problems.append(f"{path.relative_to(site)}: link text {text!r}")
    assert not problems, "raw TeX where MathJax does not typeset it:\n" + "\n".join(sorted(set(problems)))


# chapters whose every plot carries a caption (cell metadata "mystnb": {"figure": {"caption", "name"}});
# add a chapter here once its plot cells have them
CAPTIONED = ("intro", "01_carleman", "02_gradient_descent", "03_upload", "04_hhl", "05_tomography", "06_theorems",
             "07_experiments", "08_pipeline", "09_resources")


def test_figures_are_numbered_and_captioned(html):
    """Every plot of a captioned chapter is a numbered figure with a caption."""
    site, pages = html
    for name in CAPTIONED:
        soup = pages[site / "book" / f"{name}.html"]
        images = soup.select("div.cell_output img")
        figures = soup.select("div.cell_output figure")
        assert images and len(figures) == len(images), f"{name}: {len(images)} plots, {len(figures)} captioned"
        for figure in figures:
            assert figure.select_one(".caption-number") and figure.select_one(".caption-text").get_text(strip=True)


def test_bibliography_labels_are_author_year(html):
    site, pages = html
    labels = [label.get_text(strip=True) for label in pages[site / "book" / "bibliography.html"].select(".label")]
    assert labels and all(re.fullmatch(r"\[[^\]]+, \d{4}[a-z]?\]", label) for label in labels), labels
    assert "[Liu et al., 2024]" in labels


def test_chapter_8_numbers_quoted_elsewhere_come_from_one_checked_file():
    """Chapters 6 and 9 read chapter 8's kappa, precision and settings from book/data/chapter8.json, which must
    say what chapter 8 prints and runs."""
    quotes = json.loads((BOOK / "data" / "chapter8.json").read_text(encoding="utf-8"))
    printed = _outputs("08_pipeline")
    assert (f"measured kappa <= {quotes['kappa']:.4g}, success x postselection >= "
            f"{quotes['success_probability']:.3g}") in printed
    assert f"eps = {quotes['eps']:g}" in printed and f"n = {quotes['n']} free weights" in printed
    source = "".join("".join(c["source"]) for c in _cells("08_pipeline") if c["cell_type"] == "code")
    assert (f"SegmentSettings(eta=0.1, steps={quotes['steps']}, order={quotes['order']}, "
            f"clock_qubits={quotes['clock_qubits']}, shots={quotes['copies']:_}") in source
    for name in ("06_theorems", "09_resources"):
        code = "".join("".join(c["source"]) for c in _cells(name) if c["cell_type"] == "code")
        assert "data/chapter8.json" in code and "55.9" not in code, name


# ----------------------------------------------------------------------------------------------------
# printed tables

PAGE_WIDTH = 100  # characters of a code-output line that the book's page shows without wrapping
COLUMN_GAP = re.compile(r"\S {2,}(?=\S)")


def test_printed_tables_fit_the_page():
    """A printed table wider than the page wraps in the HTML and loses its columns: display it with
    ``qsgd.plots.table`` (an HTML table in the book) or make it narrower. A line counts as a table row
    when it has two or more gaps of two or more spaces; outputs with a text/html form are exempt."""
    wide = []
    for path in sorted(BOOK.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    text = out.get("text", "")
                elif "text/html" not in out.get("data", {}):
                    text = out.get("data", {}).get("text/plain", "")
                else:
                    continue
                text = text if isinstance(text, str) else "".join(text)
                wide += [f"{path.name} cell {index}: {line!r}" for line in text.splitlines()
                         if len(line) > PAGE_WIDTH and len(COLUMN_GAP.findall(line)) >= 2]
    assert not wide, (f"{len(wide)} printed table rows are wider than {PAGE_WIDTH} characters "
                      "(show them with qsgd.plots.table):\n" + "\n".join(wide))
