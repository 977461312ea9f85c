"""Brute-force reference values of the two O(lambda^4) K4 blocks in d = 1 (no Gegenbauer
expansion, no ergsym quadrature nodes): used by tests/test_general_blocks.py.

Point: bump cutoff eps=0.1, lambda_max=2, mass 1, Lambda 1, d = 1.  Method:

* line functions ``f(x) = (1/pi) int_0^Q cos(q x) Kt(q) dq`` and the D line
  ``f_D(x) = (1/pi) int_Lambda^sqrt(Lambda^2+eps) cos(q x) D(q) dq`` by composite 24-point
  Gauss-Legendre on panels of width 0.01 (0.005 as a check; D: 8x finer), split at the
  cutoff's breakpoints, K and dK/dLambda evaluated pointwise at q^2 (not ergsym's nodes or
  local bump variable); Q = sqrt(kink + 40) (the tail eps exp(-40) is below 1e-18);
* the three position integrals as plain trapezoid sums on the grid x = -X + i h: the lines
  are band-limited to |q| <= Q, so every sum is exact once 2 pi/h exceeds the bandwidth of
  its integrand (four lines: 4 Q < 2 pi / 0.2); the only error left is the box [-X, X]^3,
  estimated from X = 100 vs X = 140;
* value = 2 pi h^3 sum_{x1,x2,x3} U(x1) A(x2) B(x3) C(x1-x2) E(x1-x3) F(x2-x3) as matrix
  products with Toeplitz matrices.

Run:  PYTHONPATH=$PWD python tests/make_k4_reference.py     (a few minutes on 2 shared cores)
"""

import math

import numpy as np

from ergsym.cutoffs import BumpCutoff

EPS_, LMAX, MASS, LAM = 0.1, 2.0, 1.0, 1.0


def _gl_nodes(edges, width, n=24):
    """Composite n-point Gauss-Legendre nodes/weights, panels of at most ``width``."""
    x, w = np.polynomial.legendre.leggauss(n)
    qs, ws = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        k = max(1, int(math.ceil((b - a) / width)))
        e = np.linspace(a, b, k + 1)
        h = np.diff(e)[:, None]
        qs.append((e[:-1, None] + h * (x + 1) / 2).ravel())
        ws.append((h * w / 2).ravel())
    return np.concatenate(qs), np.concatenate(ws)


def line_functions(xs, width):
    """f(x) and f_D(x) by composite Gauss-Legendre in q (panels <= width, split at the
    breakpoints), K and dK/dLambda evaluated pointwise at q^2."""
    c = BumpCutoff(EPS_, LMAX)
    bps = sorted({math.sqrt(b) for b in c.breakpoints(LAM)})
    Q = math.sqrt(c.kink + 40.0)
    q, w = _gl_nodes([0.0] + [b for b in bps if b < Q] + [Q], width)
    kt = np.array([float(c.K(v * v, LAM)) for v in q]) / (q * q + MASS**2)
    shell = (LAM, math.sqrt(LAM**2 + EPS_))
    qd, wd = _gl_nodes(list(shell), width / 8)
    dd = np.array([LAM * float(c.dK_dLambda(v * v, LAM)) for v in qd]) / (qd * qd + MASS**2)
    f = np.array([np.sum(w * kt * np.cos(q * x)) for x in xs]) / math.pi
    fd = np.array([np.sum(wd * dd * np.cos(qd * x)) for x in xs]) / math.pi
    return f, fd


def k4_values(h, X, width=0.01):
    n = int(round(2 * X / h)) + 1
    k = np.arange(0, 2 * n)
    f, fd = line_functions(k * h, width)
    x_idx = np.arange(n)
    diff = np.abs(x_idx[:, None] - x_idx[None, :])
    M = f[diff]  # f(x_i - x_j)
    c0 = n // 2  # grid index of x = 0 (n odd)
    pos = np.abs(x_idx - c0)
    g, gd = f[pos], fd[pos]  # radial functions of x_i
    out = {}
    # B1 = G4[01D,01K,02K,03K,12K,13K,23K,23K]: U = f_D f, A = f, B = f, C = f, E = f, F = f^2
    # B2 = G4[01D,02K,02K,03K,12K,13K,13K,23K]: U = f_D, A = f^2, B = f, C = f, E = f^2, F = f
    for name, (U, A, B, C, E, F) in {"B1": (gd * g, g, g, M, M, M * M), "B2": (gd, g * g, g, M, M * M, M)}.items():
        Y = F @ (B[:, None] * E.T)  # Y[x2, x1] = sum_x3 F(x2-x3) B(x3) E(x1-x3)
        W = np.sum(A[:, None] * C.T * Y, axis=0)
        out[name] = 2 * math.pi * h**3 * float(U @ W)
    return out


if __name__ == "__main__":
    a = k4_values(0.2, 100.0)
    b = k4_values(0.2, 140.0)
    c = k4_values(0.2, 140.0, width=0.005)
    for name in a:
        print(
            name, repr(c[name]), "box difference", abs(a[name] - b[name]), "q-panel difference", abs(b[name] - c[name])
        )
