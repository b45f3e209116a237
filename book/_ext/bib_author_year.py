"""Bibliography labels that match the book's author-year citations.

sphinxcontrib-bibtex writes citations such as "Liu et al. [2024]" (``bibtex_reference_style:
author_year``) but, with pybtex's ``plain`` style, labels the bibliography list [1], [2], ... This
extension registers a pybtex formatting style ``plain_author_year``: the ``plain`` entries, sorted
by author, year and title, labelled "Liu et al., 2024" (one author: "Carleman, 1932"; two authors:
"Gleinig and Hoefler, 2021"; a letter is appended when two entries would get the same label).
Select it with ``bibtex_default_style: plain_author_year``.
"""

from collections import Counter, defaultdict

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _last_name(person) -> str:
    return str(Text(*person.rich_last_names)).replace("\u00a0", " ")


def author_year_label(entry) -> str:
    """'Name, year', 'Name and Name, year' or 'Name et al., year' for one pybtex entry."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_last_name(p) for p in persons]
    if not names:
        who = str(Text.from_latex(entry.fields.get("organization", entry.key)))
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        sorted_entries = list(sorted_entries)
        labels = [author_year_label(e) for e in sorted_entries]
        counts, seen = Counter(labels), defaultdict(int)
        for label in labels:
            if counts[label] > 1:
                seen[label] += 1
                label = label + chr(ord("a") + seen[label] - 1)
            yield label


class PlainAuthorYearStyle(PlainStyle):
    default_label_style = "author_year_labels"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "author_year_labels", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "plain_author_year", PlainAuthorYearStyle)


def setup(app):
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
