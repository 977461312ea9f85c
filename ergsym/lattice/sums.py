"""Exact lattice values of integral families (SPEC section 3).

On a periodic lattice every family the engine emits is a finite sum, so a series evaluates
*exactly* (to float rounding) order by order -- no continuum extrapolation.  A block's value
follows the definition in :mod:`ergsym.families`::

    b = (1/V) sum_{x_0..x_{n-1}} prod_e m_e(x_i - x_j),   m_e = ifftn(F_e),
    F_e(p) = Kt_p^kt D_p^d

* ``loop``: ``(1/V) sum_p F(p)``;
* ``bridge``: ``F(p = 0)``;
* ``melon``: ``sum_r prod_e m_e(r)`` (FFT of a position-space product: the sunset is the
  transform of ``G(x)^3``);
* ``general``: a tensor contraction (``numpy.einsum``) of circulant matrices with one vertex
  pinned at the origin.

The family value is ``V * b_outer * prod b`` with a ``D`` line, else ``prod b``.  No sympy.
"""
from __future__ import annotations

import string

import numpy as np

from ..conventions import free_propagators, lattice_phat2, parse_lattice
from ..errors import InputError

__all__ = ["lattice_propagators", "block_value", "family_value", "series_on_lattice",
           "MAX_GENERAL_VOLUME"]

#: Largest volume on which ``general`` blocks (dense V x V circulants) are contracted.
MAX_GENERAL_VOLUME = 4096


def lattice_propagators(shape, cutoff, mass, Lambda):
    """``(Kt_p, D_p)`` on the FFT grid of ``shape`` at ``phat^2`` (SPEC section 3).

    Parameters
    ----------
    shape : str or tuple of int
        ``"8x8"``, ``(4, 4)``, ``"1"`` (one site: the zero-dimensional case).
    cutoff : ergsym.cutoffs.Cutoff
    mass, Lambda : float
    """
    shape = parse_lattice(shape)
    p2 = lattice_phat2(shape)
    kt, d = free_propagators(cutoff, p2, Lambda, mass)
    if not np.all(np.isfinite(kt)) or np.any(kt <= 0):
        raise InputError("the cutoff gives a non-positive or non-finite propagator Kt_p on this "
                         f"lattice (min Kt_p = {np.min(kt)!r}); check mass and cutoff parameters")
    return kt, d


def _line_array(line, kt, d, delta=None):
    out = np.ones_like(kt)
    if line.kt:
        out = out * kt ** line.kt
    if line.d:
        out = out * d ** line.d
    if line.delta:
        if delta is None:
            raise InputError("a flowed family needs Delta_p = Kt_Lambda0 - Kt_Lambda: pass delta_p")
        out = out * delta ** line.delta
    return out


def block_value(block, kt, d, delta=None) -> float:
    """Per-volume value ``b`` of one block on the lattice with momentum arrays ``kt, d``.

    ``delta`` (``Kt_Lambda0 - Kt_Lambda``) is needed only for flowed families.
    """
    lines = [_line_array(e[2], kt, d, delta) for e in block.edges]
    kind = block.kind
    if kind == "loop":
        return float(np.mean(lines[0]))
    if kind == "bridge":
        return float(lines[0].flat[0])
    pos = [np.fft.ifftn(f).real for f in lines]
    if kind == "melon":
        prod = pos[0]
        for m in pos[1:]:
            prod = prod * m
        return float(np.sum(prod))
    return _general_block(block, pos)


def _general_block(block, pos):
    shape = pos[0].shape
    vol = int(np.prod(shape))
    if vol > MAX_GENERAL_VOLUME:
        raise InputError.bad("lattice volume", vol, f"at most {MAX_GENERAL_VOLUME} for the "
                             f"multi-loop block {block.name}", "use a smaller lattice")
    # circulant matrices M[x, y] = m(x - y) on flattened sites
    coords = np.indices(shape).reshape(len(shape), -1)
    diff = tuple((coords[:, :, None] - coords[:, None, :])[mu] % shape[mu] for mu in range(len(shape)))
    letters = string.ascii_letters
    operands, subs = [], []
    for (i, j, _line), m in zip(block.edges, pos):
        mat = m[diff]
        if i == 0 and j == 0:
            raise AssertionError("self-edge in a general block")  # impossible after reduction
        if i == 0:
            operands.append(mat[0, :])
            subs.append(letters[j])
        elif j == 0:
            operands.append(mat[:, 0])
            subs.append(letters[i])
        else:
            operands.append(mat)
            subs.append(letters[i] + letters[j])
    expr = ",".join(subs) + "->"
    return float(np.einsum(expr, *operands, optimize="greedy"))


def family_value(family, kt, d, delta=None) -> float:
    """Exact lattice value of a :class:`~ergsym.families.Family` (see module docstring)."""
    kt = np.asarray(kt, dtype=float)
    d = np.asarray(d, dtype=float)
    delta = None if delta is None else np.asarray(delta, dtype=float)
    val = 1.0
    for b in family.blocks:
        val *= block_value(b, kt, d, delta)
    if family.outer is not None:
        val *= kt.size
    return val


def series_on_lattice(series, shape=None, kt_p=None, d_p=None, couplings=None, delta_p=None):
    """Evaluate an engine :class:`~ergsym.symbolic.Series` exactly on a lattice.

    Parameters
    ----------
    series : Series
    shape : tuple, optional
        Checked against ``kt_p.shape`` when given.
    kt_p, d_p : ndarray
        ``Kt_p`` and ``D_p`` on the FFT grid (e.g. from :func:`lattice_propagators`).
    couplings : sequence of float, optional
        Coupling values; then the summed series is returned instead of per-order values.
    delta_p : ndarray, optional
        ``Kt_Lambda0,p - Kt_Lambda,p`` for flowed series (lines with ``Delta``).

    Returns
    -------
    list of float (index k: coefficient of the couplings' total order k) or float
        Whole lattice sums for ``delta(0)`` series, per-site values otherwise.
    """
    kt_p = np.asarray(kt_p, dtype=float)
    d_p = np.asarray(d_p, dtype=float) if d_p is not None else np.zeros_like(kt_p)
    if shape is not None and tuple(parse_lattice(shape)) != kt_p.shape:
        raise InputError.bad("shape", shape, f"equal to kt_p.shape={kt_p.shape}")
    if kt_p.shape != d_p.shape:
        raise InputError.bad("d_p.shape", d_p.shape, f"equal to kt_p.shape={kt_p.shape}")
    cache = {}

    def val(f):
        if f not in cache:
            cache[f] = family_value(f, kt_p, d_p, delta_p)
        return cache[f]

    return series.evaluate(val, couplings)
