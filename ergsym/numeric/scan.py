"""Batched position-space melons for scans over ``Lambda`` and/or ``mass`` (docs/numeric.md).

A scan evaluates the same melon at ``B`` points ``(mass_i, Lambda_i)``.  Point by point (see
:mod:`.melon`) the cost is the kernel matrix ``omega_d(r q)`` of every point.  Here the points
share work:

* one radial grid ``r in [0, R]`` and one truncation radius ``R`` for the whole batch (``R``
  is doubled until every point passes its own truncation test);
* the momentum nodes are split into *shared* nodes, where ``K_Lambda(p^2)`` is the same
  function for every point of the batch, and *local* nodes of each point.  For the bump
  cutoff with ``Lambda in [La, Lb]``: ``K = 1`` on ``|p| <= La`` and ``K`` is
  ``Lambda``-independent on ``p^2 >= Lb^2 + eps`` (plateau and tail), so only
  ``[La, sqrt(Lb^2 + eps)]`` is local: the segment ``[La, Lambda_i]`` (``K = 1``), the bump in
  its local variable and the plateau segment ``[sqrt(Lambda_i^2+eps), sqrt(Lb^2+eps)]``.  A
  mass scan at one ``Lambda`` shares every node.  Sharing is verified numerically (``K``
  and ``dK/dLambda`` of every point at the shared nodes must equal the shared values
  exactly); otherwise, and for other cutoffs with different ``Lambda``, the caller falls
  back to the point-by-point path.
* the kernel matrix of the shared nodes is built once and applied to all points' line
  values as one matrix product; the local kernel of a point also serves the forward
  transform at that point's ``D`` (bump-shell) nodes, since ``omega_d(r q)`` is symmetric.

Per point, the estimate, the error (20- vs 16-point pipelines, truncation estimate from the
``R/2``, ``R/4`` truncations, rounding) and the converged flag are computed exactly as in
:func:`.melon._position`; only the grids are shared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..conventions import sphere_area
from ..cutoffs.base import Piece
from .melon import integrand_columns, outer_start_radius, start_radius
from .oneloop import line_values
from .quadrature import composite_nodes
from .transforms import H_PANEL, N_HI, N_LO, NEGLIGIBLE, _piece_edges, next_R, omega_d, tail_estimate

if TYPE_CHECKING:
    from ..cutoffs.base import Cutoff
    from ..families import Line

__all__ = ["melon_scan", "scan_layout"]

EPS = np.finfo(float).eps
_CHUNK = 1_500_000


def _seg_piece(cutoff, p2a, p2b, lam):
    """A piece linear in ``p^2`` on ``[p2a, p2b]`` with ``K`` evaluated pointwise."""
    la = np.array([lam])

    def f(t):
        p2 = (p2a + (p2b - p2a) * np.asarray(t, float))[None, :]
        k = np.asarray(cutoff.K(p2, la[:, None]), float).reshape(p2.shape)
        dk = np.asarray(cutoff.dK_dLambda(p2, la[:, None]), float).reshape(p2.shape)
        return p2, np.full_like(p2, p2b - p2a), k, dk

    return Piece("seg", f, True, np.array([math.sqrt(p2a)]), np.array([math.sqrt(p2b)]), np.zeros(1))


def scan_layout(cutoff: Cutoff, lams: np.ndarray) -> tuple[list, list] | None:
    """Shared and local pieces: ``(shared, [local_i])`` or ``None`` if nothing can be shared.

    ``shared`` and each ``local_i`` are lists of single-``Lambda`` :class:`Piece` objects.
    """
    lams = np.asarray(lams, float)
    ul = np.unique(lams)
    if ul.size == 1:
        return cutoff.melon_pieces(float(ul[0])), [[] for _ in lams]
    if getattr(cutoff, "kind", "") != "bump":
        return None
    la, lb = float(ul[0]), float(ul[-1])
    e = float(cutoff.eps)
    pa = cutoff.pieces(la)
    pb = cutoff.pieces(lb)
    shared = [p for p in pa if p.kind == "ir"] + [p for p in pb if p.kind in ("plateau", "tail")]
    if len(shared) != len([p for p in pb if p.kind in ("plateau",)]) + 2:
        return None
    local = []
    cache = {}
    for L in lams:
        L = float(L)
        if L not in cache:
            pcs = []
            if L > la:
                pcs.append(_seg_piece(cutoff, la * la, L * L, L))
            pcs.extend(p for p in cutoff.pieces(L) if p.kind == "bump")
            if lb > L:
                pcs.append(_seg_piece(cutoff, L * L + e, lb * lb + e, L))
            cache[L] = pcs
        local.append(cache[L])
    return shared, local


def _nodes(pieces, mass, R, n, pref, dim):
    qs, ws, p2s, ks, dks = [], [], [], [], []
    for piece in pieces:
        t, wt = composite_nodes(_piece_edges(piece, mass, R, dim=dim), n)
        p2, jac, k, dk, _ = piece.evaluate(t)
        p2, jac, k, dk = p2[0], jac[0], k[0], dk[0]
        qs.append(np.sqrt(p2))
        ws.append(wt * jac * 0.5 * p2 ** ((dim - 2) / 2.0) * pref)
        p2s.append(p2)
        ks.append(k)
        dks.append(dk)
    if not qs:
        z = np.zeros(0)
        return z, z, z, z, z
    return tuple(np.concatenate(a) for a in (qs, ws, p2s, ks, dks))


def _kernel(dim, r, q):
    out = np.empty((r.size, q.size))
    if q.size == 0:
        return out
    step = max(1, _CHUNK // q.size)
    for i in range(0, r.size, step):
        out[i : i + step] = omega_d(dim, np.outer(r[i : i + step], q))
    return out


def _verify_shared(cutoff, shared_nodes, lams):
    """``K``, ``dK`` of every ``Lambda`` at the shared nodes equal the shared values."""
    q, w, p2, k, dk = shared_nodes
    ul = np.unique(lams)
    if ul.size == 1 or p2.size == 0:
        return True
    for L in ul:
        kk = np.asarray(cutoff.K(p2, float(L)), float)
        dd = np.asarray(cutoff.dK_dLambda(p2, float(L)), float)
        # equal up to rounding of the two ways of computing p^2 (tail: kink + s)
        if not (np.allclose(kk, k, rtol=1e-13, atol=0.0) and np.array_equal(dd, dk)):
            return False
    return True


#: points per batch: a batch shares one R, the largest any of its points needs, so very long
#: scans are cut into groups of neighbouring points (measured: 101-point f2 scans are 1.7-2.6x
#: faster in groups of ~25 than in one batch)
CHUNK = 26


def melon_scan(
    lines: Sequence[Line],
    cutoff: Cutoff,
    dim: int,
    masses: np.ndarray,
    lams: np.ndarray,
    rtol: float,
    outer: bool,
    R0: float | None = None,
    _probe: bool = False,
) -> tuple | None:
    """Position-space melon at ``B`` points at once (module docstring).

    Returns
    -------
    (estimate, error, converged, info) with arrays of shape ``(B,)``, or ``None`` when the
    points share nothing (the caller then evaluates them one by one).
    """
    masses = np.asarray(masses, float).ravel()
    lams = np.asarray(lams, float).ravel()
    B = lams.size
    if B > CHUNK and not _probe:
        order = np.lexsort((masses, lams))
        ngroups = -(-B // CHUNK)
        est, err, conv = np.empty(B), np.empty(B), np.empty(B, bool)
        infos = []
        for g in np.array_split(order, ngroups):
            out = melon_scan(lines, cutoff, dim, masses[g], lams[g], rtol, outer, R0)
            if out is None:
                return None
            est[g], err[g], conv[g] = out[0], out[1], out[2]
            infos.append(out[3])
        return est, err, conv, {"R": max(i["R"] for i in infos), "groups": infos, "batched": B}
    lay = scan_layout(cutoff, lams)
    if lay is None:
        return None
    shared_p, local_p = lay
    dim = int(dim)
    Sd = sphere_area(dim)
    pref = Sd / (2 * math.pi) ** dim
    dlines = [l for l in lines if l.d >= 1]
    dline = dlines[0] if (outer and dlines) else None
    others = list(lines)
    if dline is not None:
        others.remove(dline)
    c = (2 * math.pi) ** dim if outer else 1.0
    m2 = masses**2
    mref = float(np.min(masses))
    if R0 is not None:
        R = float(R0)
    elif dline is not None:
        # the smallest start any point of the batch would take (the truncation test of every
        # point still doubles R as needed)
        R = min(outer_start_radius(lines, dim, float(mm), float(ll), cutoff) for mm, ll in zip(masses, lams))
    else:
        R = start_radius(float(np.min(lams)), mref)
    if B > 5 and not _probe:
        # find R on a few probe points (extremes and middle); every point is still tested
        probe = sorted(
            {int(np.argmin(lams)), int(np.argmax(lams)), int(np.argmin(masses)), int(np.argmax(masses)), B // 2}
        )
        got = melon_scan(lines, cutoff, dim, masses[probe], lams[probe], rtol, outer, R0, _probe=True)
        if got is None:
            return None
        R = max(R, got)
    uniq_lines = list(dict.fromkeys(others))
    kern_evals = [0]

    def one_pass(R, n):
        sh = _nodes(shared_p, mref, R, n, pref, dim)
        if not _verify_shared(cutoff, sh, lams):
            return None
        loc_cache = {}
        loc = []
        for L, pcs in zip(lams, local_p):
            key = float(L)
            if key not in loc_cache:
                loc_cache[key] = _nodes(pcs, mref, R, n, pref, dim)
            loc.append(loc_cache[key])
        # drop shared tail nodes where every point's Kt line is negligible
        qs, ws, p2s, ks, dks = sh
        keep_n = qs.size
        if qs.size:
            last = 0
            for i in range(B):
                a_sh = np.abs(ws * ks / (p2s + m2[i]))
                a_loc = float(np.sum(np.abs(loc[i][1] * loc[i][3] / (loc[i][2] + m2[i]))))
                tail = np.cumsum(a_sh[::-1])[::-1]
                tot = tail[0] + a_loc
                kp = np.nonzero(tail > NEGLIGIBLE * tot)[0]
                last = max(last, int(kp[-1]) + 1 if kp.size else 0)
            keep_n = max(last, 1)
        qs, ws, p2s, ks, dks = (a[:keep_n] for a in sh)
        qe = max([float(qs[-1])] if qs.size else [0.0]) if qs.size else 0.0
        qe = max([qe] + [float(x[0][-1]) for x in loc if x[0].size])
        if dline is not None:
            pmax = 0.0
            for x in [sh] + loc:
                nz = np.nonzero(x[4])[0]
                if nz.size:
                    pmax = max(pmax, float(x[0][nz[-1]]))
        else:
            pmax = 0.0
        bw = len(others) * qe + pmax
        nr = 4 * max(1, int(math.ceil(R * bw / H_PANEL / 4)))
        r, wr = composite_nodes(np.linspace(0.0, R, nr + 1), n)
        meas = wr * Sd * r ** (dim - 1)
        # shared part of every line transform, all points at once
        Ks = _kernel(dim, r, qs)
        kern_evals[0] += Ks.size
        nl = len(uniq_lines)
        Vs = np.empty((qs.size, B * nl))
        for i in range(B):
            for j, l in enumerate(uniq_lines):
                Vs[:, i * nl + j] = ws * line_values(l.kt, l.d, p2s, ks, dks, lams[i], m2[i])
        Fs = Ks @ Vs if qs.size else np.zeros((r.size, B * nl))
        dks_sh = dks
        I = np.empty((B, 3))
        RR = np.empty(B)
        rho_env = np.empty(B)
        kl_cache = {}
        for i in range(B):
            ql, wl, p2l, kl, dkl = loc[i]
            key = float(lams[i])
            if key not in kl_cache:
                kl_cache = {key: _kernel(dim, r, ql)}  # points of one Lambda are adjacent
                kern_evals[0] += r.size * ql.size
            Kl = kl_cache[key]
            fv, l1 = [], []
            for j, l in enumerate(uniq_lines):
                vl = wl * line_values(l.kt, l.d, p2l, kl, dkl, lams[i], m2[i])
                f = Fs[:, i * nl + j] + (Kl @ vl if ql.size else 0.0)
                fv.append(f)
                l1.append(float(np.sum(np.abs(Vs[:, i * nl + j])) + np.sum(np.abs(vl))))
            fmap = dict(zip(uniq_lines, zip(fv, l1)))
            tr = [fmap[l] for l in others]
            rho_env[i], rnd_r, cols = integrand_columns(tr, r, meas, R)
            if dline is not None:
                dsh = np.nonzero(dks_sh)[0]
                dlo = np.nonzero(dkl)[0]
                Fd_sh = ws[dsh] * line_values(dline.kt, dline.d, p2s[dsh], ks[dsh], dks[dsh], lams[i], m2[i])
                Fd_lo = wl[dlo] * line_values(dline.kt, dline.d, p2l[dlo], kl[dlo], dkl[dlo], lams[i], m2[i])
                mc = meas[:, None] * cols
                vals = np.zeros(3)
                if dsh.size:
                    vals = vals + Fd_sh @ (Ks[:, dsh].T @ mc)
                if dlo.size:
                    vals = vals + Fd_lo @ (Kl[:, dlo].T @ mc)
                vals = c * vals
                rr = c * float(np.sum(np.abs(Fd_sh)) + np.sum(np.abs(Fd_lo))) * rnd_r
            else:
                vals = c * (meas @ cols)
                rr = c * rnd_r
            I[i] = vals
            RR[i] = rr + 64 * EPS * abs(vals[0])
        tail = np.empty(B)
        rho = 0.0
        for i in range(B):
            t_i, rho_i = tail_estimate(I[i, 0], I[i, 1], I[i, 2], rho_env[i])
            tail[i] = float(t_i)
            rho = max(rho, rho_i)
        return I[:, 0], tail, RR, rho, r.size

    for _attempt in range(8):
        out = one_pass(R, N_HI)
        if out is None:
            return None
        I1, tail, rr, rho, nr_nodes = out
        tol = rtol * np.abs(I1)
        bad = tail > 0.5 * np.maximum(tol, 1e-300)
        if not np.any(bad):
            break
        j = int(np.argmax(tail / np.maximum(tol, 1e-300)))
        R = next_R(R, float(tail[j]), 0.25 * max(float(tol[j]), 1e-300), rho)
    if _probe:
        return R
    out0 = one_pass(R, N_LO)
    if out0 is None:
        return None
    I0 = out0[0]
    err = np.abs(I1 - I0) + tail + rr
    conv = err <= np.maximum(tol, 1e-300)
    info = {"R": R, "n_r": nr_nodes, "kernel_evals": kern_evals[0], "batched": B}
    return I1, err, conv, info
