"""Figures shared by several chapters of the book.

Used in the introduction (the pipeline of the paper's Fig. 1).
"""

from __future__ import annotations

from qsgd._validation import describe

__all__ = ["pipeline_diagram"]

#: the stages of the paper's Fig. 1 / its four-step algorithm, with the chapter that runs each
PIPELINE_STAGES = (
    ("Dense\npre-training", "classical SGD", "ch. 7", "classical"),
    ("Magnitude\npruning", "keep the largest\n10% of |theta|", "ch. 7", "classical"),
    ("Sparse\nupload", "Gleinig-Hoefler\nO(s log n) CNOTs", "ch. 3", "quantum"),
    ("Carleman GD\n+ HHL", "T steps as one\nlinear system (Eq. 6)", "ch. 1, 2, 4", "quantum"),
    ("Tomography\ndownload", "~1/eps^2 shots\nsigns and norm", "ch. 5", "quantum"),
    ("Classical\ncontinuation", "re-prune, train,\nre-upload", "ch. 7, 8", "classical"),
)


def pipeline_diagram(ax=None):
    """Draw the learning pipeline of the paper's Fig. 1 as a row of boxes.

    Classical stages are grey, quantum stages blue; an arrow from the last box
    back to the upload marks the download/re-upload cycle of Fig. 2c.

    Parameters
    ----------
    ax : matplotlib Axes, optional
        Where to draw; a new 12 x 3.4 inch figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``ax`` is neither None nor a matplotlib Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if ax is not None and not isinstance(ax, Axes):
        raise ValueError(f"pipeline_diagram: ax must be a matplotlib Axes or None, got {describe(ax)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 3.4))
    width, gap, height = 1.7, 0.45, 1.6
    colours = {"classical": "#e6e6e6", "quantum": "#cfe2f3"}
    centres = []
    for i, (title, detail, chapter, kind) in enumerate(PIPELINE_STAGES):
        x = i * (width + gap)
        ax.add_patch(
            FancyBboxPatch(
                (x, 0), width, height, boxstyle="round,pad=0.04", fc=colours[kind], ec="#333333", lw=1.0
            )
        )
        ax.text(x + width / 2, 1.22, title, ha="center", va="center", fontsize=10, weight="bold")
        ax.text(x + width / 2, 0.62, detail, ha="center", va="center", fontsize=8.5)
        ax.text(x + width / 2, 0.18, chapter, ha="center", va="center", fontsize=8, style="italic")
        centres.append(x + width / 2)
        if i:
            ax.add_patch(
                FancyArrowPatch(
                    (x - gap + 0.03, height / 2), (x - 0.03, height / 2), arrowstyle="-|>", mutation_scale=12
                )
            )
    ax.add_patch(
        FancyArrowPatch(
            (centres[-1], -0.08),
            (centres[2], -0.08),
            connectionstyle="arc3,rad=-0.25",
            arrowstyle="-|>",
            mutation_scale=12,
            ls="--",
        )
    )
    ax.text((centres[2] + centres[-1]) / 2, -0.78, "download, then re-upload every K steps", ha="center", fontsize=9)
    ax.set_xlim(-0.2, len(PIPELINE_STAGES) * (width + gap))
    ax.set_ylim(-0.9, height + 0.1)
    ax.set_axis_off()
    return ax
