"""Evaluate integral families (docs/numeric.md): blocks, families, the named ones.

A :class:`~ergsym.families.Family` is a product of blocks (see :mod:`ergsym.families`):

* ``loop`` blocks: 1-loop radial integrals (:mod:`ergsym.numeric.oneloop`);
* ``melon`` blocks (two vertices, ``n >= 3`` lines): ``int d^dx prod_e f_e(x)`` by radial
  Hankel transforms (``method="position"``, default) or by nested momentum-space
  convolutions (``method="momentum"``, 3 or 4 lines, the independent cross-check), see
  :mod:`ergsym.numeric.melon`;
* ``general`` blocks that are rings of bundles (every O(lambda^3) triangle): chained Hankel
  transforms (:mod:`ergsym.numeric.ring`);
* ``general`` blocks that are complete graphs on four vertices (the K4 blocks of O(lambda^4),
  e.g. ``G4[01D,01K,02K,03K,12K,13K,23K,23K]``): Gegenbauer x-space expansion
  (:mod:`ergsym.numeric.general`; default ``rtol`` 1e-5); any other ``general`` topology
  raises :class:`~ergsym.errors.FamilyNotSupportedError` naming it (use the lattice layer).

The block holding the ``D`` line carries the ``(2 pi)^d`` of the ERG kernel (outer
``int d^dp``).  The value of a family is the product of its block values; its error is the
first-order propagation ``sum_b |prod_{b' != b} v_b'| e_b`` (linear, i.e. worst case; a block
that appears twice is one evaluation and counts twice, as it is fully correlated).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import FamilyNotSupportedError, InputError
from ..families import NAMED_FAMILIES, Block, Family
from .oneloop import loop_integral
from .values import DEFAULT_RTOL_1LOOP, DEFAULT_RTOL_2LOOP, Value, guard, validate_common, validate_rtol

if TYPE_CHECKING:
    from ..cutoffs.base import Cutoff

__all__ = ["evaluate_block", "evaluate_family", "evaluate_named", "sunset", "METHODS", "BASIC_NAMES"]

METHODS = ("auto", "position", "momentum")
#: docs/numeric.md basic families in print order (Sun(p) is a function: see :func:`sunset`)
BASIC_NAMES = ("f0", "t1", "u1", "T", "T2", "T3", "f1", "f2")


def _check_method(method):
    if method not in METHODS:
        raise InputError.bad("method", method, "one of " + ", ".join(METHODS))
    return method


@guard
def evaluate_block(
    block: Block,
    cutoff: Cutoff | str,
    dim: int,
    mass: float | np.ndarray,
    Lambda: float | np.ndarray,
    rtol: float | None = None,
    method: str = "auto",
) -> Value:
    """Value of one block (see module docstring), vectorized over ``Lambda`` and ``mass``.

    Parameters
    ----------
    block : ergsym.families.Block
    cutoff : Cutoff or str
    dim : int
        1..6.
    mass : float or array_like
        ``m >= 0``; at ``m = 0`` only infrared-finite blocks are evaluated (see
        :func:`check_massless`), the others raise ``DivergentIntegralError``.
    Lambda : float or array_like
        Broadcast against ``mass``.
    rtol : float, optional
        Default 1e-10 (loops), 1e-8 (melons, rings) or 1e-5 (K4 blocks).
    method : {"auto", "position", "momentum"}
        For melons; ignored for loops.

    Returns
    -------
    Value
    """
    cutoff, dim, m, lam, shape = validate_common(cutoff, dim, mass, Lambda)
    method = _check_method(method)
    return _block(block, cutoff, dim, m, lam, shape, rtol, method, {})


def _line_ir_power(line, cutoff):
    """Power ``a`` of ``|p|^a`` that the massless line behaves like as ``p -> 0``.

    ``Kt ~ p^-2``; ``D = Lambda dK/dLambda / p^2`` vanishes near ``p = 0`` for a cutoff whose
    ``dK/dLambda`` has compact support away from 0 (the bump: power +inf) and is ``~ p^0`` for
    the smooth cutoffs (``dK/dLambda ~ p^2``).
    """
    if line.d >= 1 and getattr(cutoff, "compact_dk", False):
        return math.inf
    return -2.0 * line.kt


def check_massless(block: Block, cutoff: Cutoff, dim: int) -> None:
    """Raise :class:`~ergsym.errors.DivergentIntegralError` if ``block`` is infrared divergent
    at ``m = 0`` in dimension ``dim`` (or :class:`FamilyNotSupportedError` where ergsym cannot
    evaluate the massless block); return None if it is infrared finite.

    Rules (power counting at small momentum/large distance): a loop ``int d^dp F`` with
    ``F ~ p^a`` needs ``d + a > 0``; every non-``D`` line of a melon must have a position-space
    transform (``d + a > 0``), and a melon without a ``D`` line must decay at large distance:
    ``d + sum_e (-a_e - d) < 0`` (each line ``~ r^(-a-d)``).  A ``D`` line (smooth or compact in
    momentum space away from 0) makes the melon's integrand decay fast.
    """
    from ..errors import DivergentIntegralError

    def fail(what):
        raise DivergentIntegralError(
            f"block {block.name} is infrared divergent at mass=0 in d={dim}: {what}. Use a mass > 0 "
            "(the value then grows without bound as mass -> 0), or a higher dimension"
        )

    if block.kind == "loop":
        (line,) = block.lines
        a = _line_ir_power(line, cutoff)
        if dim + a <= 0:
            fail(f"its integrand behaves like |p|^{a:g} at small p, and int d^{dim}p |p|^{a:g} diverges")
        return
    if block.kind == "general":
        raise FamilyNotSupportedError(
            f"block {block.name}: massless (mass=0) 'general' blocks (rings, K4) are not implemented; use a mass > 0"
        )
    others = [l for l in block.lines if l.d == 0]
    for l in others:
        a = _line_ir_power(l, cutoff)
        if dim + a <= 0:
            fail(f"its line {l.label} ~ |p|^{a:g} has no Fourier transform (int d^{dim}p |p|^{a:g} diverges)")
    if len(others) == len(block.lines):
        expo = dim + sum(-_line_ir_power(l, cutoff) - dim for l in others)
        if expo >= 0:
            fail(f"its position-space integrand decays like r^({expo:g}-1) at large r")


def _block(block, cutoff, dim, m, lam, shape, rtol, method, cache):
    key = (block, rtol, method)
    if key in cache:
        return cache[key]
    if np.any(m == 0):
        check_massless(block, cutoff, dim)
    if block.kind == "loop":
        r = validate_rtol(rtol, DEFAULT_RTOL_1LOOP)
        (line,) = block.lines
        est, err, conv, n = loop_integral(line.kt, line.d, cutoff, dim, m.ravel(), lam.ravel(), r, outer=block.has_d)
        v = Value(_shape(est, shape), _shape(err, shape), _shape(conv, shape), block.name, "radial", {"n_eval": n})
    elif block.kind in ("melon", "general"):
        from .general import DEFAULT_RTOL_K4, k4_value
        from .melon import melon_value
        from .ring import ring_value

        kind = _general_kind(block)
        r = validate_rtol(rtol, DEFAULT_RTOL_K4 if kind == "k4" else DEFAULT_RTOL_2LOOP)
        meth = "position" if method == "auto" else method
        if block.kind == "general" and meth != "position":
            raise FamilyNotSupportedError(
                f"block {block.name}: 'general' blocks (rings, K4) have only the position-space method, not {meth!r}"
            )
        ests, errs, convs, infos = [], [], [], []
        R0 = None
        batch = None
        if block.kind == "melon" and meth == "position" and m.size > 1 and _batch_ok(block, cutoff, dim, m, lam):
            from .scan import melon_scan

            batch = melon_scan(block.lines, cutoff, dim, m.ravel(), lam.ravel(), r, outer=block.has_d)
        if batch is not None:
            e, er, c, info = batch
            v = Value(_shape(e, shape), _shape(er, shape), _shape(c, shape), block.name, meth, info)
            cache[key] = v
            return v
        for mm, ll in zip(m.ravel(), lam.ravel()):
            ctx = _context(cache, cutoff, dim, float(mm), float(ll)) if meth == "position" else None
            if block.kind == "melon":
                e, er, c, info = melon_value(
                    block.lines,
                    cutoff,
                    dim,
                    float(mm),
                    float(ll),
                    r,
                    meth,
                    outer=block.has_d,
                    R0=R0,
                    ctx=ctx,
                    auto=method == "auto",
                )
            elif kind == "k4":
                e, er, c, info = k4_value(block, cutoff, dim, float(mm), float(ll), r, ctx=ctx, R0=R0)
            else:
                e, er, c, info = ring_value(block, cutoff, dim, float(mm), float(ll), r, ctx=ctx, R0=R0)
            R0 = info.get("R")
            ests.append(e)
            errs.append(er)
            convs.append(c)
            infos.append(info)
        if block.kind == "melon":
            # the method that produced the numbers: "auto" may route a point to the momentum
            # method (grids over budget) or to the split melon (m << Lambda), see melon_value
            used = sorted({str(i.get("routed", meth)).split(" ")[0] for i in infos})
            label = "+".join(used)
        else:
            label = "k4" if kind == "k4" else "ring"
        v = Value(
            _shape(np.array(ests), shape),
            _shape(np.array(errs), shape),
            _shape(np.array(convs), shape),
            block.name,
            label,
            infos[0] if len(infos) == 1 else {"points": infos},
        )
    else:
        raise FamilyNotSupportedError(f"block {block.name}: unknown kind {block.kind!r}")
    cache[key] = v
    return v


def _general_kind(block) -> str:
    """``"ring"``, ``"k4"`` (complete graph on four vertices) or ``""`` (melon/other)."""
    if block.kind != "general":
        return ""
    from .general import k4_edges
    from .ring import ring_bundles

    if ring_bundles(block) is not None:
        return "ring"
    if k4_edges(block) is not None:
        return "k4"
    raise FamilyNotSupportedError(
        f"block {block.name} is a 'general' block that is neither a ring of bundles (its vertices "
        "do not form a single cycle) nor a complete graph on four vertices (K4): the continuum "
        "layer cannot evaluate this topology. Use the lattice layer (ergsym.lattice), which sums "
        "every family exactly."
    )


def _batch_ok(block, cutoff, dim, m, lam) -> bool:
    """The batched melon scan has no size guard: use it only where the single-point grids at
    the smallest scale stay well inside the position method's budget."""
    from .melon import KERNEL_BUDGET, outer_start_radius, start_radius
    from .transforms import PointContext

    i = int(np.argmin(np.minimum(np.where(m > 0, m, np.inf), lam)))
    mm, ll = float(m.ravel()[i]), float(lam.ravel()[i])
    R = outer_start_radius(block.lines, dim, mm, ll, cutoff) if block.has_d else start_radius(ll, mm)
    ctx = PointContext(cutoff, dim, mm, ll)
    nq = ctx.qnodes(R, 20)[0].size
    bw = len(block.lines) * ctx.q_eff(R, 20)
    return 20.0 * R * bw / 24.0 * nq * 8 < KERNEL_BUDGET


def _context(cache, cutoff, dim, mass, Lambda):
    """The :class:`~.transforms.PointContext` of one point, shared by all blocks of a call."""
    from .transforms import PointContext

    key = ("_ctx", cutoff, dim, mass, Lambda)
    ctx = cache.get(key)
    if ctx is None:
        # keep one point's transforms at a time (a Lambda scan visits points in order)
        for k in [k for k in cache if isinstance(k, tuple) and k and k[0] == "_ctx"]:
            del cache[k]
        ctx = cache[key] = PointContext(cutoff, dim, mass, Lambda)
    return ctx


def _shape(a, shape):
    a = np.asarray(a)
    return a.reshape(shape) if shape else a.reshape(()).item()


@guard
def evaluate_family(
    family: Family,
    cutoff: Cutoff | str | Sequence,
    dim: int,
    mass: float | np.ndarray,
    Lambda: float | np.ndarray,
    rtol: float | None = None,
    method: str = "auto",
    _cache: dict | None = None,
) -> Value:
    """Value of a :class:`~ergsym.families.Family` (product of its blocks).

    Parameters are as in :func:`evaluate_block`; ``rtol`` applies to each block (default
    1e-10 for 1-loop blocks, 1e-8 for melons and rings, 1e-5 for K4 blocks).

    Returns
    -------
    Value
        ``estimate = prod_b v_b``, ``error = sum_b e_b prod_{b' != b} |v_b'|`` (first order,
        linear), ``converged`` = all blocks converged.

    Raises
    ------
    DivergentIntegralError
        A block diverges for this cutoff (e.g. ``f0`` for exponential/Fermi: (B3)4).
    FamilyNotSupportedError
        A ``general`` block that is neither a ring nor a K4 (use the lattice layer).
    InputError
        Bad ``dim``, ``mass``, ``Lambda``, ``rtol`` or ``method``.

    Examples
    --------
    >>> from ergsym.families import NAMED_FAMILIES
    >>> v = evaluate_family(NAMED_FAMILIES["f0"], "bump:eps=0.5,lambda_max=2", 2, 1.0, 1.0)
    >>> round(v.estimate, 10)   # 2 pi Lambda^2 ln(1/eps)
    4.3551721806
    """
    if not isinstance(family, Family):
        raise InputError.bad("family", family, "an ergsym.families.Family")
    if _is_cutoff_sequence(cutoff):
        return _stack_over_cutoffs(
            lambda c: evaluate_family(family, c, dim, mass, Lambda, rtol, method), cutoff, mass, Lambda
        )
    cutoff, dim, m, lam, shape = validate_common(cutoff, dim, mass, Lambda)
    method = _check_method(method)
    cache = {} if _cache is None else _cache
    vals = [_block(b, cutoff, dim, m, lam, shape, rtol, method, cache) for b in family.blocks]
    return _product(family.name, vals, shape)


def _is_cutoff_sequence(cutoff) -> bool:
    return isinstance(cutoff, (list, tuple))


def _stack_over_cutoffs(fn, cutoffs, mass, Lambda):
    """Vectorize over cutoff parameters: ``fn`` at each cutoff, results stacked along axis 0.

    ``cutoffs`` is a sequence of cutoffs or specs (e.g. bumps with several ``eps``); ``mass``
    and ``Lambda`` must then be scalars.  Each point keeps its own error and converged flag.
    """
    if len(cutoffs) == 0:
        raise InputError.bad("cutoff", cutoffs, "a cutoff, a spec, or a non-empty sequence of them")
    if np.ndim(mass) or np.ndim(Lambda):
        raise InputError(
            "a sequence of cutoffs needs scalar mass and Lambda "
            f"(got mass with shape {np.shape(mass)}, Lambda with shape {np.shape(Lambda)})"
        )
    results = [fn(c) for c in cutoffs]

    def stack(vals):
        first = vals[0]
        return Value(
            np.array([float(v.estimate) for v in vals]),
            np.array([float(v.error) for v in vals]),
            np.array([bool(v.converged) for v in vals]),
            first.name,
            first.method,
            {"cutoffs": [getattr(c, "spec", c) for c in cutoffs]},
        )

    if isinstance(results[0], Value):
        return stack(results)
    out = {}
    for name in results[0]:
        vals = [r[name] for r in results]
        bad = next((v for v in vals if not isinstance(v, Value)), None)
        out[name] = bad if bad is not None else stack(vals)
    return out


def _product(name, vals, shape):
    if not vals:
        one = np.ones(shape) if shape else 1.0
        return Value(one, one * 0.0, np.ones(shape, bool) if shape else True, name, "product")
    est = np.ones(shape) if shape else 1.0
    for v in vals:
        est = est * np.asarray(v.estimate)
    err = np.zeros(shape) if shape else 0.0
    for i, v in enumerate(vals):
        others = np.ones(shape) if shape else 1.0
        for j, w in enumerate(vals):
            if j != i:
                others = others * np.abs(np.asarray(w.estimate))
        err = err + np.asarray(v.error) * others
    conv = np.ones(shape, bool) if shape else True
    for v in vals:
        conv = conv & np.asarray(v.converged)
    if len(vals) == 1:
        v = vals[0]
        return Value(v.estimate, v.error, v.converged, name, v.method, v.info)
    return Value(_shape(est, shape), _shape(err, shape), _shape(conv, shape), name, "product")


@guard
def evaluate_named(
    cutoff: Cutoff | str | Sequence,
    dim: int,
    mass: float | np.ndarray,
    Lambda: float | np.ndarray,
    names: Sequence[str] | None = None,
    rtol: float | None = None,
    method: str = "auto",
    on_divergence: str = "raise",
) -> dict:
    """The basic families of docs/numeric.md (``f0, t1, u1, T, T2, T3, f1, f2``) by name.

    Parameters
    ----------
    cutoff : Cutoff, spec string, or a sequence of them
        A sequence vectorizes over cutoff parameters (e.g. several ``eps``): every value is
        then an array along the sequence (``mass`` and ``Lambda`` scalar).
    names : sequence of str, optional
        Subset of :data:`BASIC_NAMES` (default all).
    on_divergence : {"raise", "record"}
        ``"record"`` stores the :class:`~ergsym.errors.DivergentIntegralError` instance
        instead of a :class:`Value` (used by the CLI to print every finite family).

    Returns
    -------
    dict
        name -> :class:`Value` (or the exception, with ``on_divergence="record"``).
    """
    from ..errors import DivergentIntegralError

    names = BASIC_NAMES if names is None else tuple(names)
    for n in names:
        if n not in NAMED_FAMILIES:
            raise InputError.bad("names", n, "a subset of " + ", ".join(BASIC_NAMES))
    if on_divergence not in ("raise", "record"):
        raise InputError.bad("on_divergence", on_divergence, "'raise' or 'record'")
    if _is_cutoff_sequence(cutoff):
        return _stack_over_cutoffs(
            lambda c: evaluate_named(c, dim, mass, Lambda, names, rtol, method, on_divergence), cutoff, mass, Lambda
        )
    cutoff, dim, m, lam, shape = validate_common(cutoff, dim, mass, Lambda)
    cache = {}
    out = {}
    for n in names:
        try:
            out[n] = evaluate_family(NAMED_FAMILIES[n], cutoff, dim, m, lam, rtol, method, _cache=cache)
        except DivergentIntegralError as exc:
            if on_divergence == "raise":
                raise
            out[n] = exc
    return out


@guard
def sunset(
    p: float | np.ndarray,
    cutoff: Cutoff | str,
    dim: int,
    mass: float,
    Lambda: float,
    rtol: float | None = None,
    method: str = "auto",
) -> Value:
    """``Sun(p) = int_q1 int_q2 Kt(q1) Kt(q2) Kt(p-q1-q2)`` (docs/numeric.md).

    ``method="position"`` (default): ``Sun(p) = int d^dx e^{-ipx} G(x)^3`` with
    ``G(x) = int_q e^{iqx} Kt(q)`` (radial Hankel transforms).  ``method="momentum"``: the
    bubble ``B(k) = int_q Kt(q) Kt(k-q)`` at the radial nodes of ``Sun(p) = int_k B(k) Kt(p-k)``
    (Gegenbauer-weighted angular quadratures, :mod:`ergsym.numeric.momentum`), independent of
    the transforms.  Vectorized over an array ``p >= 0`` (one ``Lambda`` and ``mass``).

    Returns
    -------
    Value
        Arrays of the shape of ``p``.
    """
    from ..families import K
    from .melon import melon_value

    cutoff, dim, m, lam, shape = validate_common(cutoff, dim, mass, Lambda)
    if shape:
        raise InputError.bad("Lambda", Lambda, "a scalar for sunset(p) (vectorize over p)")
    try:
        pa = np.asarray(p, dtype=float)
    except (TypeError, ValueError):
        raise InputError.bad("p", p, "real numbers >= 0") from None
    if np.any(~np.isfinite(pa)) or np.any(pa < 0):
        raise InputError.bad("p", p, "finite real numbers >= 0")
    r = validate_rtol(rtol, DEFAULT_RTOL_2LOOP)
    if float(m) == 0 and dim <= 3:
        from ..errors import DivergentIntegralError

        if np.any(pa == 0) or dim <= 2:
            raise DivergentIntegralError(
                f"Sun(p) is infrared divergent at mass=0 in d={dim}"
                + (" (every line ~ 1/p^2 has no Fourier transform)" if dim <= 2 else " at p = 0 (logarithmically)")
                + "; use a mass > 0 or d >= 4"
            )
        raise FamilyNotSupportedError(
            "Sun(p) at mass=0 in d=3 (p > 0) is infrared finite but converges too "
            "slowly at large distance for the position method; use a mass > 0 or d >= 4"
        )
    meth = "position" if _check_method(method) == "auto" else method
    e, er, c, info = melon_value(
        (K, K, K),
        cutoff,
        dim,
        float(m),
        float(lam),
        r,
        meth,
        outer=False,
        p_ext=np.atleast_1d(pa).ravel(),
        auto=method == "auto",
    )
    sh = pa.shape
    return Value(_shape(e, sh), _shape(er, sh), _shape(c, sh), "Sun", meth, info)
