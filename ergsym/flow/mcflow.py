"""``--method mc``: B, its pieces and M along the exact flow by Monte Carlo (docs/monotone_sign.md).

Outer sampling.  ``P_Lambda0`` is sampled by the Fourier-accelerated HMC of
:mod:`ergsym.lattice.run` (independent chains, adapted step); every configuration is pushed
through the exact Gaussian channel ``phi_Lambda = alpha phi_Lambda0 + xi``
(:class:`ergsym.lattice.channel.GaussianChannel`, Cotler & Rezchikov eq. (2.7)).

The score.  ``P_Lambda ∝ e^{-Shat_Lambda(phi)} W(phi)`` with
``W(phi) = E_{chi ~ N(0, Delta)} e^{-V_0(phi + chi)}``, ``Delta = Kt_Lambda0 - Kt_Lambda``, so

.. math:: \\partial S_\\Lambda(\\phi) = \\tilde K_\\Lambda^{-1}\\phi + g(\\phi),\\qquad
          g(\\phi) = E[\\nabla V_0(\\phi_{\\Lambda_0}) \\mid \\phi_\\Lambda = \\phi],

the conditional mean of the bare interaction force ``(lam/6) phi_Lambda0^3`` given the flowed
field -- Tweedie's formula ``score = Sigma_xi^{-1}(alpha E[phi_Lambda0|phi] - phi)`` with the
combination of the two unbiased forms of the conditional score whose Gaussian part is exact.
The Schwinger-Dyson
identity ``E[dS Cdot Kt^-1 phi] = sum_p D_p/Kt_p = f0`` is used as a control variate
(:func:`_pieces`): ``B = f0/2 + (c - e)/2`` per sample, exact for the free field.
The posterior of ``phi_Lambda0`` given ``phi_Lambda = phi`` is ``phi + eta`` with
``eta ∝ N(0, Delta) e^{-V_0(phi + eta)}``: only the modes with ``Delta_p > 0`` move.

Unbiased squares.  With ``a = phi Kt^-1 Cdot Kt^-1 phi``, ``c = g Cdot Kt^-1 phi`` and
``e = g Cdot g``, ``B = a/2 + c - e/2`` (``B = -Lambda dM/dLambda``; pieces:
``dSdS = a/2 + c + e/2``, ``dSdShat = -2a - 2c``, ``dShatdShat = 2a``, ``LdShat = a``).  ``e`` is
a square of a conditional mean: it is estimated by ``g(x1) Cdot g(x2)`` from two posterior
replicas -- ``x1`` the sampled ``phi_Lambda0`` itself (an exact posterior draw, since
``(phi_Lambda0, phi_Lambda)`` is drawn jointly) and ``x2`` the end of an HMC chain of the
posterior started at ``x1`` (exact posterior marginal; its correlation with ``x1`` decays
with the number of inner trajectories).  The residual correlation is measured: ``e`` after
``n_inner/2`` and ``n_inner`` trajectories are compared, and a significant difference flags
the result unreliable.  Every per-sample value includes its own inner randomness, so the
autocorrelation-aware error over the outer chains covers outer and inner sampling.

``M_Lambda - M_Lambda0 = -1/2 sum_p log alpha_p + int_Lambda^Lambda0 (B - B_free) dL/L``: the
interacting part by Gauss-Legendre on the panels between the kinks of B (per-sample
integrals, so the statistical error is that of the integral), quadrature error = difference
with half the nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from .problem import FlowProblem

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["MCSettings", "sample_p0", "PosteriorHMC", "mc_point_samples", "mc_flow"]

#: refuse (unless forced) when the estimated cost exceeds this many seconds
MC_MAX_SECONDS = 600.0
MIN_POSTERIOR_ACCEPTANCE = 0.3
_SEC_PER_SITE_TRAJ = 2.5e-8  # per site and integration step (x log2 V); measured 8x8..16x16, 2 cores


@dataclass(frozen=True)
class MCSettings:
    """Sampling settings of ``--method mc``.

    Attributes
    ----------
    n_samples : int
        Outer measurements per chain.
    n_chains : int
        Independent outer HMC chains (batched).
    n_therm : int
        Thermalization trajectories (the HMC step is adapted during them).
    n_inner : int
        Posterior HMC trajectories per outer sample and scale (even, >= 2).
    seed : int
    n_log : int
        Gauss-Legendre nodes per panel for ``M - M0``.
    """

    n_samples: int = 512
    n_chains: int = 8
    n_therm: int = 100
    n_inner: int = 8
    seed: int = 0
    n_log: int = 8

    def validate(self) -> MCSettings:
        for name, v, lo, hi in (
            ("--samples", self.n_samples, 16, 10**7),
            ("--chains", self.n_chains, 2, 4096),
            ("--therm", self.n_therm, 0, 10**6),
            ("--inner", self.n_inner, 2, 1000),
            ("--seed", self.seed, 0, 2**63 - 1),
            ("--n-log", self.n_log, 2, 200),
        ):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise InputError.bad(name, v, f"an integer in [{lo}, {hi}]")
        if self.n_inner % 2:
            raise InputError.bad(
                "--inner",
                self.n_inner,
                "an even integer >= 2",
                "the replica correlation is measured after n_inner/2 and n_inner trajectories",
            )
        return self


def estimate_seconds(problem: FlowProblem, settings: MCSettings, n_scales: int) -> float:
    """Order-of-magnitude cost (s) of an mc run: outer chains plus posterior chains per scale
    (linear in the number of components N, docs/benchmarks.md)."""
    V = problem.volume
    n = settings.n_samples * settings.n_chains
    steps = 4  # PosteriorHMC's integration steps per trajectory
    outer = (settings.n_therm + settings.n_samples) * settings.n_chains * V * 8
    inner = n_scales * n * settings.n_inner * V * (steps + 3)
    return (outer + inner) * problem.N * _SEC_PER_SITE_TRAJ * max(1.0, math.log2(max(V, 2)))


def sample_p0(problem: FlowProblem, settings: MCSettings, progress: bool = False) -> tuple[np.ndarray, dict]:
    """Configurations of ``P_Lambda0``: array ``(n_samples, n_chains) + field shape`` in Markov
    order (field shape: the lattice shape, with a component axis in front for ``N > 1``).

    Uses :func:`ergsym.lattice.run.run_mc` (batched chains, step adapted during thermalization).
    Returns ``(phi0, info)`` with the acceptance and the HMC step count.
    """
    from ..lattice.run import run_mc
    from ..lattice.theory import LatticeTheory

    a0 = problem.at(problem.Lambda0)
    theory = LatticeTheory(problem.shape, problem.kt0, a0.d, problem.lam, N=problem.N)
    s = settings
    fshape = theory.field_shape
    out = np.empty((s.n_samples, s.n_chains) + fshape)
    k = [0]

    def keep(i, state, info):
        if i >= s.n_therm:
            out[k[0]] = np.asarray(state.phi).reshape((s.n_chains,) + fshape)
            k[0] += 1

    res = run_mc(
        theory,
        s.n_therm + s.n_samples,
        seed=s.seed,
        n_therm=s.n_therm,
        progress=progress,
        callback=keep,
        n_chains=s.n_chains,
    )
    return out, {
        "outer_acceptance": float(res.acceptance),
        "outer_trajectories": s.n_therm + s.n_samples,
        "outer_chains": s.n_chains,
    }


class PosteriorHMC:
    """HMC of ``eta ∝ N(0, Delta) e^{-V_0(phi + eta)}`` for a batch of flowed fields ``phi``.

    Mass matrix (Fourier acceleration): ``Kpost_p = 1/(1/Delta_p + (lam/2) phi2_est)``, the
    Gaussian approximation of the posterior with the quartic's mean curvature at the
    data-independent width estimate ``phi2_est`` (the smaller of the free ``<phi^2>`` and the
    pure-quartic value ``sqrt(24/lam) Gamma(3/4)/Gamma(1/4)``), so that every mode oscillates
    with frequency ~1 and a trajectory of ~pi/2 decorrelates it.  The Gaussian part
    ``eta Delta^-1 eta / 2`` is integrated exactly (a rotation by ``omega_p h`` in every mode,
    ``omega_p^2 = Kpost_p/Delta_p``), between kicks by the quartic force.  Modes with
    ``Delta_p = 0`` never move.  Metropolis per batch member: exact for any step size.

    With ``n_comp = N > 1`` components (fields ``(batch, N) + shape``) the quartic is
    ``(lam/4!) sum_x (x_a x_a)^2``, its force ``(lam/6)(x_b x_b) x_a``, and its mean curvature
    ``(lam/6)(N + 2) phi2_est`` with ``phi2_est`` the width of one component (``lam/2`` at N = 1).
    """

    def __init__(
        self,
        shape: tuple[int, ...],
        delta: np.ndarray,
        lam: float,
        phi2_est: float,
        n_steps: int | None = None,
        traj_scale: float = 1.0,
        n_comp: int = 1,
    ):
        self.shape = tuple(shape)
        self.axes = tuple(range(-len(self.shape), 0))
        self.N = int(n_comp)
        #: the axes of one configuration (the energies sum over them)
        self.conf_axes = self.axes if self.N == 1 else tuple(range(-len(self.shape) - 1, 0))
        self.delta = np.asarray(delta, float)
        self.lam = float(lam)
        self.V = math.prod(self.shape)
        self.live = self.delta > 0
        safe = np.where(self.live, self.delta, 1.0)
        self.inv_delta = np.where(self.live, 1.0 / safe, 0.0)
        curv = 0.5 * self.lam if self.N == 1 else self.lam * (self.N + 2) / 6.0
        kpost = np.where(self.live, 1.0 / (1.0 / safe + curv * float(phi2_est)), 0.0)
        self.kpost = kpost
        self.inv_kpost = np.where(self.live, 1.0 / np.where(self.live, kpost, 1.0), 0.0)
        self.sqrt_kpost = np.sqrt(kpost)
        self.omega = np.sqrt(kpost * self.inv_delta)
        self.n_steps = int(n_steps or 4)
        self.traj_scale = float(traj_scale)

    def _gauss_p(self, xp, inv):
        return 0.5 / self.V * np.sum((xp.real**2 + xp.imag**2) * inv, axis=self.conf_axes)

    def _force_p(self, phi, eta_p, energy=False):
        eta = np.real(np.fft.ifftn(eta_p, axes=self.axes))
        x = phi + eta
        x2 = x * x if self.N == 1 else np.sum(x * x, axis=-len(self.shape) - 1, keepdims=True)
        force = np.fft.fftn((self.lam / 6.0) * x2 * x, axes=self.axes)
        if not energy:
            return force, None
        return force, (self.lam / 24.0) * np.sum(x2 * x2, axis=self.conf_axes)

    def trajectory(self, phi: np.ndarray, eta: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One trajectory for every batch member; returns ``(eta_new, accepted mask)``."""
        white = rng.standard_normal(eta.shape)
        v = np.fft.fftn(white, axes=self.axes) * self.sqrt_kpost
        e = np.fft.fftn(eta, axes=self.axes) * self.live
        tau = 0.5 * math.pi * rng.uniform(0.75, 1.25) * self.traj_scale
        h = tau / self.n_steps
        cw, sw = np.cos(self.omega * h), np.sin(self.omega * h)
        sw_over = np.where(self.live, sw / np.where(self.live, self.omega, 1.0), 0.0)
        f, u0 = self._force_p(phi, e, energy=True)
        h0 = self._gauss_p(e, self.inv_delta) + self._gauss_p(v, self.inv_kpost) + u0
        v = v - 0.5 * h * self.kpost * f
        for i in range(self.n_steps):
            e, v = cw * e + sw_over * v, cw * v - self.omega * sw * e
            f, u1 = self._force_p(phi, e, energy=i == self.n_steps - 1)
            v = v - (h if i < self.n_steps - 1 else 0.5 * h) * self.kpost * f
        h1 = self._gauss_p(e, self.inv_delta) + self._gauss_p(v, self.inv_kpost) + u1
        dh = h1 - h0
        acc = np.log(rng.uniform(size=dh.shape)) < -np.where(np.isfinite(dh), dh, np.inf)
        sel = acc.reshape(acc.shape + (1,) * len(self.conf_axes))
        return np.where(sel, np.real(np.fft.ifftn(e, axes=self.axes)), eta), acc


def phi2_estimate(problem: FlowProblem) -> float:
    """Data-independent width ``<phi_1^2>`` (one component) of ``P_Lambda0``: min(free, pure quartic).

    Pure quartic ``e^{-(lam/24) r^4}`` in ``R^N``: ``<r^2> = sqrt(24/lam) Gamma((N+2)/4)/Gamma(N/4)``,
    divided by ``N`` per component.
    """
    free = float(np.mean(problem.kt0))
    if problem.lam <= 0:
        return free
    if problem.N == 1:
        quartic = math.sqrt(24.0 / problem.lam) * math.gamma(0.75) / math.gamma(0.25)
    else:
        n = problem.N
        # log-gamma: Gamma(N/4) overflows a double from N ~ 690 on
        quartic = math.sqrt(24.0 / problem.lam) * math.exp(math.lgamma((n + 2) / 4) - math.lgamma(n / 4)) / n
    return min(free, quartic)


def _shell_sums(problem, arr, phi_p, g1_p, g2_p, g2h_p):
    """Per-sample ``a``, ``c``, ``e`` (and ``e`` with the half-length replica) over the D-shell
    (summed over the components for ``N > 1``)."""
    V = problem.volume
    m = arr.shell
    d, kt = arr.d[m], arr.kt[m]
    if problem.N > 1:  # the shell modes of every component on one axis: (batch, N * n_shell)
        d, kt = np.tile(d, problem.N), np.tile(kt, problem.N)
        mask = m

        def sh(x):
            return None if x is None else x[..., mask].reshape(x.shape[: -len(problem.shape) - 1] + (-1,))

        phi_p, g1_p, g2_p, g2h_p = sh(phi_p), sh(g1_p), sh(g2_p), sh(g2h_p)
        m = slice(None)
    fp = phi_p[..., m]
    a = np.sum(d * (fp.real**2 + fp.imag**2) / kt**2, axis=-1) / V
    if g1_p is None:
        z = np.zeros_like(a)
        return a, z, z, z, z
    g1, g2, g2h = g1_p[..., m], g2_p[..., m], g2h_p[..., m]
    gm = 0.5 * (g1 + g2)
    c = np.sum(d * (gm.real * fp.real + gm.imag * fp.imag) / kt, axis=-1) / V
    e = np.sum(d * (g1.real * g2.real + g1.imag * g2.imag), axis=-1) / V
    eh = np.sum(d * (g1.real * g2h.real + g1.imag * g2h.imag), axis=-1) / V
    e0 = np.sum(d * (g1.real**2 + g1.imag**2), axis=-1) / V
    return a, c, e, eh, e0


def mc_point_samples(
    problem: FlowProblem, phi0: np.ndarray, Lambda: float, n_inner: int, rng: np.random.Generator, chunk: int = 4096
) -> dict:
    """Per-sample estimators at one scale (arrays shaped like ``phi0.shape[:-d]``).

    Returns ``{"a", "c", "e", "e_half", "phi2", "G_p"(mean over samples), "acceptance",
    "n_steps"}``.
    """
    from ..lattice.channel import GaussianChannel

    arr = problem.at(Lambda)
    d = len(problem.shape)
    n_comp = problem.N
    fshape = problem.shape if n_comp == 1 else (n_comp,) + problem.shape
    lead = phi0.shape[: -len(fshape)]
    flat = phi0.reshape((-1,) + fshape)
    ch = GaussianChannel(problem.shape, arr.alpha, arr.kt)
    post = PosteriorHMC(problem.shape, arr.delta, problem.lam, phi2_estimate(problem), n_comp=n_comp)
    axes = tuple(range(-d, 0))
    conf = post.conf_axes

    def cube(x):  # (lam/6) (x_b x_b) x_a: the bare interaction force
        if n_comp == 1:
            return lam6 * x * x * x
        return lam6 * np.sum(x * x, axis=-d - 1, keepdims=True) * x

    def comp_sum(x):  # sum over the component axis (N > 1) of a per-component lattice array
        return x if n_comp == 1 else np.sum(x, axis=-d - 1)

    outs = {k: [] for k in ("a", "c", "e", "e_half", "e_zero", "phi2")}
    gp = []
    moves = []
    acc_n, acc_tot = 0, 0
    has_shell = bool(np.any(arr.shell))
    lam6 = problem.lam / 6.0
    if n_comp > 1:  # the same working set as N = 1 (measured: 16x16, N = 4 ran 1.6x the linear cost)
        chunk = max(64, chunk // n_comp)
    for s in range(0, flat.shape[0], chunk):
        x1 = flat[s : s + chunk]
        phi = ch.apply(x1, rng)
        phi_p = np.fft.fftn(phi, axes=axes)
        ph2 = np.mean(phi**2, axis=axes)  # (batch,) or (batch, N)
        outs["phi2"].append(ph2 if n_comp == 1 else np.sum(ph2, axis=-1))
        gp.append(comp_sum((phi_p.real**2 + phi_p.imag**2) / problem.volume))
        if problem.lam == 0 or not has_shell:
            a, c, e, eh, e0 = _shell_sums(problem, arr, phi_p, None, None, None)
        else:
            eta = x1 - phi
            # modes with Delta = 0 are not blurred: eta_p = 0 there up to rounding
            eta = np.real(np.fft.ifftn(np.fft.fftn(eta, axes=axes) * post.live, axes=axes))
            eta_start = eta
            half = None
            for t in range(n_inner):
                eta, acc = post.trajectory(phi, eta, rng)
                acc_n += int(np.sum(acc))
                acc_tot += acc.size
                if t == n_inner // 2 - 1:
                    half = eta
            dp = np.fft.fftn(eta - eta_start, axes=axes)
            # how far the replica moved, in units of the Gaussian posterior width (2 Kpost per mode)
            if np.any(post.live):
                moves.append(
                    np.sum((dp.real**2 + dp.imag**2) * post.live, axis=conf)
                    / (problem.volume * 2.0 * np.sum(post.kpost) * n_comp)
                )
            x2, xh = phi + eta, phi + half
            g1 = np.fft.fftn(cube(x1), axes=axes)
            g2 = np.fft.fftn(cube(x2), axes=axes)
            g2h = np.fft.fftn(cube(xh), axes=axes)
            a, c, e, eh, e0 = _shell_sums(problem, arr, phi_p, g1, g2, g2h)
        for k, v in (("a", a), ("c", c), ("e", e), ("e_half", eh), ("e_zero", e0)):
            outs[k].append(v)
    res = {k: np.concatenate(v).reshape(lead) for k, v in outs.items()}
    gp = np.concatenate(gp).reshape(lead + problem.shape)
    # per-chain means (axis 0: samples in Markov order, axis 1: independent chains)
    res["G_p_chains"] = gp.mean(axis=0) if len(lead) == 2 else gp.mean(axis=0)[None]
    res["acceptance"] = acc_n / acc_tot if acc_tot else 1.0
    res["move"] = float(np.mean(np.concatenate(moves))) if moves else None
    res["n_steps"] = post.n_steps
    return res


def _replica_check(r, b_value) -> dict:
    """Is the second posterior replica decorrelated from the first?  (docs/monotone_sign.md)

    ``e(t)`` = the replica product after ``t`` inner trajectories (``e(0) = |g(x1)|^2``).  For a
    reversible chain ``e(t) - e_true = C(t)``, the conditional autocovariance of ``g``; with
    ``d1 = e(0) - e(t/2)`` and ``d2 = e(t/2) - e(t)``, ``r = d2/d1`` estimates ``C(t/2)/C(0)``-like
    decay and ``C(t) ~ d2 r/(1 - r)`` the remaining bias of ``e`` (B's bias is minus half of it).
    Problems: acceptance below :data:`MIN_POSTERIOR_ACCEPTANCE`, a replica that moved less than
    half the Gaussian posterior width (a frozen chain shows no change and no decay), or an
    estimated remaining bias of B above B's statistical error.
    """
    problems = []
    out = {"posterior_acceptance": r["acceptance"], "move": r["move"], "problems": problems}
    if r["move"] is None:
        return out
    d1 = _stats(r["e_zero"] - r["e_half"])
    d2 = _stats(r["e_half"] - r["e"])
    z = d2.mean / d2.error_of_mean if d2.error_of_mean > 0 else 0.0
    out.update(
        {
            "e0_minus_e_half": float(d1.mean),
            "e_half_minus_e": float(d2.mean),
            "e_half_minus_e_error": float(d2.error_of_mean),
            "z": float(z),
        }
    )
    if r["acceptance"] < MIN_POSTERIOR_ACCEPTANCE:
        problems.append(
            f"posterior HMC acceptance {r['acceptance']:.2f} < {MIN_POSTERIOR_ACCEPTANCE}: "
            "the replicas barely move, so the square of the conditional mean is overestimated"
        )
    if r["move"] < 0.5:
        problems.append(
            f"the posterior replica moved {r['move']:.2g} of the Gaussian posterior width "
            "(< 0.5): the two replicas are correlated; raise --inner"
        )
    if d1.mean > 0 and abs(z) > 2:
        ratio = d2.mean / d1.mean
        bias = float("inf") if ratio >= 1 else 0.5 * abs(d2.mean) * max(ratio, 0.0) / (1.0 - max(ratio, 0.0))
        out["estimated_B_bias"] = bias
        if bias > b_value["error"]:
            problems.append(
                f"posterior replicas still correlated (estimated bias of B {bias:.2g} > its "
                f"error {b_value['error']:.2g}): raise --inner"
            )
    if abs(z) > 4 and "estimated_B_bias" in out and out["estimated_B_bias"] == 0.0:
        problems.append(
            f"the replica product changes by {d2.mean:.3g} ± {d2.error_of_mean:.2g} between "
            "n_inner/2 and n_inner trajectories without settling: raise --inner"
        )
    return out


def _stats(x, exact=False):
    from ..lattice.stats import statistics

    return statistics(np.asarray(x, float), exact=exact)


def _pieces(a, c, e, f0):
    """Per-sample pieces with the Schwinger-Dyson control variate ``E[a + c] = f0``.

    ``dS Cdot Kt^-1 phi`` has mean ``tr(Cdot Kt^-1) = f0 = sum_p D_p/Kt_p`` exactly (Schwinger-Dyson
    for ``P_Lambda``), so ``dSdShat = -2 f0`` is exact and ``B = a/2 + c - e/2 - (a + c - f0)/2
    = f0/2 + c/2 - e/2``: the same mean, and no variance at all for the free field.
    """
    out = {"dSdShat": np.full_like(np.asarray(a, float), -2.0 * f0), "dShatdShat": 2.0 * a, "LdShat": a}
    out["B"] = 0.5 * f0 + 0.5 * c - 0.5 * e
    out["dSdS"] = -out["B"] - out["dSdShat"] - out["dShatdShat"] + out["LdShat"]
    out["A"] = out["dSdS"] + out["dSdShat"] + out["dShatdShat"] + out["LdShat"]
    return out


def _est(st, **extra):
    d = {
        "value": float(st.mean),
        "error": float(st.error_of_mean),
        "converged": bool(st.reliable),
        "reliable": bool(st.reliable),
        "tau_int": float(st.tau_corr),
        "n_eff": float(st.n_eff),
    }
    if st.exact:
        d["exact"] = True
    if st.reasons:
        d["reasons"] = list(st.reasons)
    d.update(extra)
    return d


def _free_point(problem, Lambda):
    arr = problem.at(Lambda)
    a = float(problem.N * np.sum(arr.d / arr.kt))  # summed over the N components
    vals = _pieces(a, 0.0, 0.0, a)
    ex = {"value": 0.0, "error": 0.0, "converged": True, "reliable": True, "exact": True}
    out = {k: dict(ex, value=float(v)) for k, v in vals.items()}
    out["phi2"] = dict(ex, value=problem.free_phi2(Lambda))
    return out


def free_points(problem: FlowProblem, Lambdas: Sequence[float], with_m: bool = True) -> list:
    """The exact free values at every scale (``lam = 0``: the flowed law is Gaussian), in the
    point shape of every method: B, A, the pieces, ``<phi^2>``, ``G_p`` and ``M - M0``."""
    pts = []
    for L in Lambdas:
        kt = problem.N * problem.at(L).kt.ravel()  # G_p summed over the N components
        p = {
            "Lambda": L,
            "values": _free_point(problem, L),
            "G_p": {"value": kt.tolist(), "error": [0.0] * kt.size, "exact": True},
            "diagnostics": {},
        }
        if with_m:
            f = problem.free_M(L)
            p["M"] = {
                "free": (f, 0.0),
                "interacting": (0.0, 0.0),
                "total": (f, 0.0),
                "statistical": 0.0,
                "quadrature": 0.0,
                "converged": True,
            }
        pts.append(p)
    return pts


def mc_flow(
    problem: FlowProblem,
    Lambdas: Sequence[float],
    settings: MCSettings,
    with_m: bool = True,
    progress: bool = False,
    sample_at_zero: bool = False,
) -> dict:
    """B, A, the pieces, ``<phi^2>``, ``G_p`` (and ``M - M0``) at every scale of ``Lambdas``.

    One set of outer samples of ``P_Lambda0`` serves every scale (and every quadrature node of
    M); inner posterior chains are fresh per scale.

    Returns
    -------
    dict ``{"points": [per-scale dict], "diagnostics": {...}}``; each point has ``Lambda``,
    ``values`` (name -> value object), and, with ``with_m``, ``M`` (``free``, ``interacting``,
    ``total`` as ``(value, error)``, ``statistical``, ``quadrature``).
    """
    settings = settings.validate()
    Ls = [problem.check_Lambda(L) for L in Lambdas]
    if problem.lam == 0 and not sample_at_zero:
        return {
            "points": free_points(problem, Ls, with_m),
            "diagnostics": {"note": "lam = 0: the flowed law is Gaussian; every number is the exact free value"},
        }
    phi0, diag = sample_p0(problem, settings, progress=progress)
    rng = np.random.default_rng([settings.seed, 20])
    pts = []
    accs, worst_bias = [], 0.0
    for L in Ls:
        r = mc_point_samples(problem, phi0, L, settings.n_inner, rng)
        accs.append(r["acceptance"])
        f0 = problem.N * float(np.sum(problem.at(L).d / problem.at(L).kt))
        vals = _pieces(r["a"], r["c"], r["e"], f0)
        values = {k: _est(_stats(v, exact=bool(np.all(v == v.flat[0])))) for k, v in vals.items()}
        rep = _replica_check(r, values["B"])
        worst_bias = max(worst_bias, abs(rep.get("z", 0.0)))
        for why in rep["problems"]:
            for k in ("B", "A", "dSdS"):
                values[k]["converged"] = values[k]["reliable"] = False
                values[k].setdefault("reasons", []).append(why)
        values["phi2"] = _est(_stats(r["phi2"]))
        gpc = r["G_p_chains"].reshape(r["G_p_chains"].shape[0], -1)
        gp_err = gpc.std(axis=0, ddof=1) / math.sqrt(gpc.shape[0]) if gpc.shape[0] > 1 else None
        gp = {
            "value": gpc.mean(axis=0).tolist(),
            "error": None if gp_err is None else gp_err.tolist(),
            "error_method": "spread of the independent chains' means",
        }
        pts.append(
            {
                "Lambda": L,
                "values": values,
                "G_p": gp,
                "diagnostics": {"posterior_steps": r["n_steps"], "replica_check": rep},
            }
        )
    if with_m:
        for p, m in zip(pts, _m_integrals(problem, phi0, Ls, settings, rng), strict=False):
            p["M"] = m
    diag.update(
        {
            "posterior_acceptance_min": float(min(accs)) if accs else None,
            "replica_check_max_abs_z": float(worst_bias),
            "n_inner": settings.n_inner,
            "samples": settings.n_samples * settings.n_chains,
        }
    )
    return {"points": pts, "diagnostics": diag}


def _m_integrals(problem, phi0, Ls, settings, rng):
    """``M_Lambda - M_Lambda0`` at every scale of ``Ls`` from one composite Gauss-Legendre rule.

    Panels: the kinks of B on ``[min Ls, Lambda0]`` plus every requested scale, so the integral
    to each scale is a sum over whole panels.  Per-sample integrals of ``B - B_free = (c - e)/2``
    give the statistical error (outer and inner sampling); the quadrature error is the
    difference with ``n_log/2`` nodes per panel.
    """
    from ..numeric.quadrature import composite_nodes

    lead = phi0.shape[: phi0.ndim - len(problem.shape) - (problem.N > 1)]
    lo_L = min(Ls)
    edges = sorted(set(problem.kink_edges(lo_L)) | {math.log(L) for L in Ls})
    cache = {}
    problems = []

    def node_values(n):
        x, w = composite_nodes(edges, n)
        vals = []
        for xi, wi in zip(x, w, strict=False):
            L = math.exp(xi)
            if not np.any(problem.at(L).shell):
                continue
            key = round(xi, 14)
            if key not in cache:
                r = mc_point_samples(problem, phi0, L, settings.n_inner, rng)
                cache[key] = 0.5 * (r["c"] - r["e"])  # B - B_free (the Schwinger-Dyson form of _pieces)
                err = _stats(cache[key]).error_of_mean if np.any(cache[key] != cache[key].flat[0]) else 0.0
                for why in _replica_check(r, {"error": err})["problems"]:
                    problems.append((L, f"quadrature node Lambda={L:.6g}: {why}"))
            vals.append((xi, wi, cache[key]))
        return vals

    hi = node_values(settings.n_log)
    lo = node_values(max(2, settings.n_log // 2))
    out = []
    for L in Ls:
        free = problem.free_M(L)
        xl = math.log(L)
        t_hi = sum((wi * v for xi, wi, v in hi if xi > xl), np.zeros(lead))
        t_lo = sum((wi * v for xi, wi, v in lo if xi > xl), np.zeros(lead))
        if not np.any(t_hi != 0):
            out.append(
                {
                    "free": (free, 1e-15 * abs(free)),
                    "interacting": (0.0, 0.0),
                    "total": (free, 0.0),
                    "statistical": 0.0,
                    "quadrature": 0.0,
                    "converged": True,
                }
            )
            continue
        st = _stats(t_hi)
        val = float(np.mean(t_hi))
        stat = float(st.error_of_mean)
        quad = abs(val - float(np.mean(t_lo)))
        reasons = list(st.reasons) + [why for Ln, why in problems if Ln > L]
        out.append(
            {
                "free": (free, 1e-15 * abs(free)),
                "interacting": (val, stat + quad),
                "total": (free + val, stat + quad),
                "statistical": stat,
                "quadrature": quad,
                "converged": bool(st.reliable) and not reasons,
                "reasons": reasons,
            }
        )
    return out
