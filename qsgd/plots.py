"""Figures and tables shared by several chapters of the book.

Used in the introduction (the pipeline of the paper's Fig. 1) and in chapter 8 (tables).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from qsgd._validation import describe

__all__ = ["pipeline_diagram", "Table", "table"]


@dataclass(frozen=True)
class Table:
    """A table of preformatted cells that renders as an HTML table in the book and as aligned text elsewhere.

    A notebook displays it with ``display(table(...))`` (or as a cell's last expression): Jupyter
    and Jupyter Book show ``_repr_html_``, a terminal and nbval's ``text/plain`` the aligned text.
    Numbers are formatted by the caller, so both forms print the same digits.
    """

    header: tuple
    rows: tuple
    caption: str | None = None

    def _repr_html_(self) -> str:
        def row(cells, tag):
            return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"

        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        body = "".join(row(r, "td") for r in self.rows)
        return (f'<table class="qsgd-table">{caption}<thead>{row(self.header, "th")}</thead>'
                f"<tbody>{body}</tbody></table>")

    def __repr__(self) -> str:
        widths = [max(len(r[j]) for r in (self.header, *self.rows)) for j in range(len(self.header))]
        lines = [self.caption] if self.caption else []
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in (self.header, *self.rows)]
        return "\n".join(lines)


def table(header, rows, *, caption: str | None = None) -> Table:
    """A :class:`Table` of strings: ``header`` names the columns, each row has one string per column.

    Raises
    ------
    ValueError
        A row of another length than ``header``, or a cell that is not a string.

    Examples
    --------
    >>> print(repr(table(["a", "b"], [["1", "22"]])))
    a   b
    1  22
    """
    head = tuple(header)
    body = tuple(tuple(r) for r in rows)
    for k, r in enumerate((head, *body)):
        if len(r) != len(head):
            raise ValueError(f"table: row {k - 1} has {len(r)} cells, the header {len(head)}")
        for c in r:
            if not isinstance(c, str):
                raise ValueError(f"table: cells must be formatted strings, got {describe(c)} in row {k - 1}")
    if caption is not None and not isinstance(caption, str):
        raise ValueError(f"table: caption must be a string, got {describe(caption)}")
    return Table(header=head, rows=body, caption=caption)

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
