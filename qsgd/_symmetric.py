r"""The symmetric basis of the Carleman lift: monomial tables and the sparse polynomial algebra.

Private machinery of :mod:`qsgd.carleman` (its ``basis="symmetric"``). A tensor power
:math:`u^{\otimes j}` is symmetric, so level :math:`j` of the lift keeps one unknown per monomial
:math:`u_{i_1}\cdots u_{i_j}`, :math:`i_1\le\dots\le i_j`, listed in lexicographic order
(:func:`monomial_rows`); :func:`rank_sorted` maps a sorted index tuple to its position in that
list. :class:`SymmetricSpace` holds the monomials of levels :math:`0..N` as the columns of one
polynomial row and multiplies such rows by table look-ups, which gives the discrete lifted map
(:meth:`SymmetricSpace.lifted_map`) and the continuous Carleman matrix
(:meth:`SymmetricSpace.derivative`) without ever forming the Kronecker powers.
:class:`RowCollector` assembles the resulting triplets in bounded memory (about
:data:`CHUNK_PAIRS` products at a time).

The public functions, size guards and bases are those of :mod:`qsgd.carleman`; this module
validates nothing and allocates what it is asked to.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

__all__ = [
    "BYTES_PER_PAIR",
    "CHUNK_PAIRS",
    "RowCollector",
    "SymmetricSpace",
    "binomial_table",
    "chunks",
    "monomial_rows",
    "rank_sorted",
    "split_constant",
]

#: products expanded at once in the symmetric basis (bounds the temporary memory)
CHUNK_PAIRS = 2**22

#: bytes per product while it is expanded (row, column, value, and the CSR conversion or dense buffer)
BYTES_PER_PAIR = 64


def monomial_rows(n: int, j: int) -> np.ndarray:
    """All non-decreasing index tuples of length j over range(n), lexicographic order."""
    if j == 0:
        return np.zeros((1, 0), dtype=np.int64)
    prev = np.arange(n, dtype=np.int64)[:, None]
    for _ in range(j - 1):
        # rows of `prev` whose first index is >= a form a suffix (lexicographic order)
        first = prev[:, 0]
        starts = np.searchsorted(first, np.arange(n), side="left")
        parts = []
        for a in range(n):
            rest = prev[starts[a]:]
            parts.append(np.concatenate([np.full((rest.shape[0], 1), a, dtype=np.int64), rest], axis=1))
        prev = np.concatenate(parts, axis=0)
    return prev


def binomial_table(rows: int, cols: int) -> np.ndarray:
    """``table[x, k] = C(x, k)`` for ``x <= rows``, ``k <= cols`` (int64, Pascal's rule)."""
    table = np.zeros((rows + 1, cols + 1), dtype=np.int64)
    table[:, 0] = 1
    for x in range(1, rows + 1):
        table[x, 1:] = table[x - 1, 1:] + table[x - 1, :-1]
    return table


def rank_sorted(tuples: np.ndarray, n: int, table: np.ndarray | None = None) -> np.ndarray:
    """Lexicographic rank of sorted index tuples (rows) among all sorted tuples of that length.

    The number of non-decreasing tuples of length L with entries in [v, n) is C(n-v+L-1, L);
    summing over the entries smaller than each position with the hockey-stick identity gives
    rank = sum_p C(n - lo_p + L_p, L_p + 1) - C(n - hi_p + L_p, L_p + 1), L_p = j - 1 - p.
    """
    m, j = tuples.shape
    if j == 0:
        return np.zeros(m, dtype=np.int64)
    if table is None:
        table = binomial_table(n + j, j + 1)
    rank = np.zeros(m, dtype=np.int64)
    lo = np.zeros(m, dtype=np.int64)
    for p in range(j):
        L = j - 1 - p
        hi = tuples[:, p]
        rank += table[n - lo + L, L + 1] - table[n - hi + L, L + 1]
        lo = hi
    return rank


def chunks(work: np.ndarray, target: int):
    """Split range(len(work)) into contiguous (start, stop) pieces of about ``target`` total work."""
    total = np.cumsum(work)
    if total.shape[0] and total[-1] <= target:
        return [(0, int(work.shape[0]))]
    out, start = [], 0
    while start < work.shape[0]:
        base = total[start - 1] if start else 0
        stop = int(np.searchsorted(total, base + target, side="right"))
        stop = max(stop, start + 1)
        out.append((start, min(stop, work.shape[0])))
        start = stop
    return out


class RowCollector:
    """Collects (row, column, value) triplets of consecutive output rows into CSR pieces.

    Triplets are flushed to a CSR piece (duplicates summed by SciPy's COO -> CSR conversion)
    once about ``CHUNK_PAIRS`` have accumulated, so the temporary memory stays bounded.
    """

    def __init__(self, width: int):
        self.width = width
        self.start = 0
        self.rows, self.cols, self.vals = [], [], []
        self.size = 0
        self.pieces = []

    def add(self, rows, cols, vals):
        self.rows.append(rows)
        self.cols.append(cols)
        self.vals.append(vals)
        self.size += vals.shape[0]

    def done_until(self, stop: int, *, force: bool = False):
        """All triplets of rows < stop are in; flush them if enough have accumulated."""
        if not force and self.size < CHUNK_PAIRS:
            return
        shape = (stop - self.start, self.width)
        if self.size and shape[0] * shape[1] <= 2 * self.size:
            # many duplicates per row (dense inputs): sum them in a dense buffer, no sorting
            key = (np.concatenate(self.rows) - self.start) * self.width + np.concatenate(self.cols)
            buf = np.bincount(key, weights=np.concatenate(self.vals), minlength=shape[0] * shape[1])
            buf = buf.reshape(shape)
            nz = buf != 0
            indptr = np.concatenate([[0], np.cumsum(np.count_nonzero(nz, axis=1))])
            piece = sp.csr_array((buf[nz], np.nonzero(nz)[1], indptr), shape=shape)
        elif self.size:
            rows = np.concatenate(self.rows) - self.start
            piece = sp.coo_array((np.concatenate(self.vals), (rows, np.concatenate(self.cols))), shape=shape).tocsr()
        else:
            piece = sp.csr_array((stop - self.start, self.width))
        self.pieces.append(piece)
        self.rows, self.cols, self.vals, self.size = [], [], [], 0
        self.start = stop

    def finish(self, stop: int) -> sp.csr_array:
        self.done_until(stop, force=True)
        out = self.pieces[0] if len(self.pieces) == 1 else sp.vstack(self.pieces, format="csr")
        out.eliminate_zeros()
        return out


class SymmetricSpace:
    """Monomials of levels 0..top as global columns, and their products.

    A polynomial in u of degree <= top is a row over the global columns: column 0 is the
    constant, then the monomials of level 1, 2, ... (each level in lexicographic order).
    ``times[v, c]`` is the column of (monomial c) * u_v for every column c of level < top, so the
    product with a monomial of level b is b table look-ups (no sorting, no ranking).
    """

    def __init__(self, n: int, top: int):
        self.n = n
        self.top = top
        self.monos = [monomial_rows(n, k) for k in range(top + 1)]
        self.dims = [m.shape[0] for m in self.monos]
        self.offsets = np.concatenate([[0], np.cumsum(self.dims)]).astype(np.int64)
        self.width = int(self.offsets[-1])
        self.table = binomial_table(n + top, top + 1)
        self.level_of = np.repeat(np.arange(top + 1), self.dims)
        times = np.full((n, int(self.offsets[top])), -1, dtype=np.int64)
        for k in range(1, top + 1):
            mono = self.monos[k]
            cols = self.offsets[k] + np.arange(self.dims[k], dtype=np.int64)
            for p in range(k):
                # every (monomial of level k-1) * u_v is the monomial `mono` with v at some position p
                times[mono[:, p], self.offsets[k - 1] + rank_sorted(np.delete(mono, p, axis=1), n, self.table)] = cols
        self.times = times

    def polynomial(self, F0: np.ndarray, mats: Sequence[sp.csr_array]):
        """Rows of u -> F0 + sum_l F_l u^(x)l on monomials, one part per level b = 0..min(q, top).

        Returns a list of (G_b, var_b): G_b a canonical CSR array (n, d_b) over the monomials of
        level b, var_b (nnz, b) the variables of each stored entry's monomial.
        """
        n = self.n
        g0 = sp.csr_array(F0.reshape(n, 1))
        g0.eliminate_zeros()
        parts = [(g0, np.zeros((g0.nnz, 0), dtype=np.int64))]
        for ell, mat in enumerate(mats, start=1):
            if ell > self.top:
                break
            coo = mat.tocoo()
            col = coo.col.astype(np.int64)
            if ell > 1:
                idx = np.stack(np.unravel_index(col, (n,) * ell), axis=1)
                idx.sort(axis=1)
                col = rank_sorted(idx, n, self.table)
            G = sp.coo_array((coo.data, (coo.row, col)), shape=(n, self.dims[ell])).tocsr()
            G.eliminate_zeros()
            parts.append((G, self.monos[ell][G.indices]))
        return parts

    def shift(self, cols: np.ndarray, var: np.ndarray) -> np.ndarray:
        """Columns of (monomial cols[s]) * (monomial var[e]) as an (e, s) array; cols of level <= top - b."""
        out = cols[None, :]
        for p in range(var.shape[1]):
            out = self.times[var[:, p : p + 1], out]
        return out

    def lifted_map(self, parts) -> list[sp.csr_array]:
        """The levels j = 1..top of the discrete lifted map, each a CSR array (d_j, width).

        Row m = (i, rest) of level j is the polynomial g_i * (row `rest` of level j-1), truncated at
        level top. The monomials of level j starting with i are, in order, i followed by the
        monomials of level j-1 starting with an index >= i: a contiguous block of rows of level
        j-1. So each entry g of row i of G multiplies that whole block at once: its columns are
        shifted by one table look-up per variable of g and its values scaled by g.
        """
        n, top = self.n, self.top
        prev = sp.csr_array(([1.0], ([0], [0])), shape=(1, self.width))  # level 0: the constant 1
        levels = []
        for j in range(1, top + 1):
            starts_prev = np.searchsorted(self.monos[j - 1][:, 0], np.arange(n)) if j > 1 else np.zeros(n, int)
            starts = np.searchsorted(self.monos[j][:, 0], np.arange(n))
            end_prev = self.dims[j - 1]
            lev = self.level_of[prev.indices]
            row_len = np.diff(prev.indptr)
            # kept[b][r]: entries of row r of level j-1 whose product with level b stays <= top
            row_of = np.repeat(np.arange(end_prev), row_len)
            kept = [row_len] + [np.bincount(row_of[lev <= top - b], minlength=end_prev)
                                for b in range(1, len(parts))]
            acc = RowCollector(self.width)
            for i in range(n):
                entries = [(b, G.indptr[i], G.indptr[i + 1]) for b, (G, _) in enumerate(parts)
                           if G.indptr[i + 1] > G.indptr[i]]
                lo_row = int(starts_prev[i])
                out0 = int(starts[i]) - lo_row  # output row = out0 + (row of level j-1)
                if not entries:
                    acc.done_until(out0 + end_prev)
                    continue
                work = sum((hi - lo) * kept[b][lo_row:end_prev] for b, lo, hi in entries)
                for a, z in chunks(work, CHUNK_PAIRS):
                    r0, r1 = lo_row + a, lo_row + z
                    p0, p1 = prev.indptr[r0], prev.indptr[r1]
                    cols = prev.indices[p0:p1].astype(np.int64)
                    data = prev.data[p0:p1]
                    rows = np.arange(out0 + r0, out0 + r1)
                    for b, lo, hi in entries:
                        G, var = parts[b]
                        g = G.data[lo:hi]
                        if b == 0:
                            cb, db = cols, data
                        else:
                            keep = lev[p0:p1] <= top - b
                            cb, db = cols[keep], data[keep]
                        if cb.shape[0] == 0:
                            continue
                        rb = np.repeat(rows, kept[b][r0:r1])
                        e = hi - lo
                        acc.add(np.tile(rb, e), self.shift(cb, var[lo:hi]).ravel(), np.multiply.outer(g, db).ravel())
                    acc.done_until(out0 + r1)
            prev = acc.finish(self.dims[j])
            levels.append(prev)
        return levels

    def derivative(self, parts, D: int) -> sp.csr_array:
        """The continuous Carleman matrix (D, D) of du/dt = G(u) on the levels 1..top.

        d/dt u_{i_1}...u_{i_j} = sum_p (prod_{q != p} u_{i_q}) * g_{i_p}(u); the column 0 (constant,
        reached only by level 1, that is b) is dropped.
        """
        n, top = self.n, self.top
        row_len = [np.diff(G.indptr) for G, _ in parts]
        pieces = []
        for j in range(1, top + 1):
            mono = self.monos[j]
            rest = np.stack([self.offsets[j - 1] + rank_sorted(np.delete(mono, p, axis=1), n, self.table)
                             for p in range(j)], axis=1)
            usable = [b for b in range(len(parts)) if j - 1 + b <= top]
            per_var = sum(row_len[b] for b in usable) if usable else np.zeros(n, dtype=np.int64)
            work = per_var[mono].sum(axis=1)
            acc = RowCollector(D)
            for lo, hi in chunks(work, CHUNK_PAIRS):
                R = rest[lo:hi].ravel()
                V = mono[lo:hi].ravel()
                O = np.repeat(np.arange(lo, hi), j)
                order = np.argsort(V, kind="stable")
                bounds = np.searchsorted(V[order], np.arange(n + 1))
                for v in range(n):
                    sel = order[bounds[v]:bounds[v + 1]]
                    if sel.shape[0] == 0:
                        continue
                    for b in usable:
                        G, var = parts[b]
                        g0, g1 = G.indptr[v], G.indptr[v + 1]
                        if g1 == g0:
                            continue
                        cols = self.shift(R[sel], var[g0:g1]).ravel()
                        keep = cols > 0
                        acc.add(np.tile(O[sel], g1 - g0)[keep], cols[keep] - 1,
                                np.repeat(G.data[g0:g1], sel.shape[0])[keep])
                acc.done_until(hi)
            pieces.append(acc.finish(self.dims[j]))
        out = sp.vstack(pieces, format="csr")
        out.eliminate_zeros()
        return out


def split_constant(levels: Sequence[sp.csr_array]) -> tuple[sp.csr_array, np.ndarray]:
    """Stack the level rows and split off column 0 (the constant): (C without it, that column)."""
    full = levels[0] if len(levels) == 1 else sp.vstack(levels, format="csr")
    rows = full.shape[0]
    first = full.indptr[:-1]
    has_const = (np.diff(full.indptr) > 0) & (full.indices[np.minimum(first, max(full.nnz - 1, 0))] == 0)
    b = np.zeros(rows)
    b[has_const] = full.data[first[has_const]]
    keep = full.indices != 0
    indptr = np.concatenate([[0], np.cumsum(np.diff(full.indptr) - has_const)])
    C = sp.csr_array((full.data[keep], full.indices[keep] - 1, indptr), shape=(rows, full.shape[1] - 1))
    C.has_sorted_indices = True
    C.has_canonical_format = True
    return C, b
