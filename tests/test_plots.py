"""Tests for qsgd.plots."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from qsgd.plots import PIPELINE_STAGES, pipeline_diagram  # noqa: E402


def test_pipeline_diagram_draws_one_box_per_stage():
    fig, ax = plt.subplots()
    out = pipeline_diagram(ax)
    assert out is ax
    assert len(ax.patches) == 2 * len(PIPELINE_STAGES)  # boxes, arrows between them, the loop arrow
    plt.close(fig)


BAD_INPUT = {
    "string ax": ("x", ["pipeline_diagram", "ax", "'x'"]),
    "array ax": (np.zeros(2), ["pipeline_diagram", "ax", "ndarray"]),
    "figure ax": ("figure", ["pipeline_diagram", "ax", "Figure"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case):
    ax, words = BAD_INPUT[case]
    fig = None
    if isinstance(ax, str) and ax == "figure":
        fig = ax = plt.figure()
    with pytest.raises(ValueError) as info:
        pipeline_diagram(ax)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    if fig is not None:
        plt.close(fig)


def test_a_table_renders_as_html_and_as_aligned_text():
    from qsgd.plots import table

    t = table(["name", "value"], [["a<b", "1.0"], ["c", "22.5"]], caption="caption & more")
    html = t._repr_html_()
    assert html.count("<tr>") == 3 and "a&lt;b" in html and "caption &amp; more" in html
    assert repr(t).splitlines() == ["caption & more", "name  value", " a<b    1.0", "   c   22.5"]
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        table(["a", "b"], [["x"]])
    with pytest.raises(ValueError, match="formatted strings"):
        table(["a"], [[1.0]])
