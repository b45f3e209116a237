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
