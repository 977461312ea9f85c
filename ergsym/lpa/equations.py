"""The two LPA fixed-point equations, their linearisations and the Morris map (docs/lpa.md).

Everything here works in the *rescaled* variables ``u = N ubar``, ``rho = N rhobar`` with
``eps = 1/N`` (``eps = 0`` is the N -> infinity limit).  Dividing either flow equation by N gives

* Wetterich, Litim regulator::

      d_t ubar = -d ubar + (d-2) rho ubar' + (1-eps)/(1+ubar') + eps/(1+ubar'+2 rho ubar'')

* Wilson-Polchinski::

      d_t ubar = -d ubar + (d-2) rho ubar' - ubar' - 2 eps rho ubar'' + 2 rho ubar'^2

(primes are d/d rho, rho is rhobar).  For finite N the potential in the units of the paper's
equations is ``u(rho) = N ubar(rho/N)``.  Odd-sector perturbations are ``delta u = phi_1 g(rho)``
(the vector representation of O(N); N = 1: odd in phi); their operators follow from the same
equations (derivation in docs/lpa.md).
"""

from __future__ import annotations

import numpy as np

__all__ = ["WETTERICH", "POLCHINSKI", "EQUATIONS", "Equation", "morris_w_to_p", "morris_p_to_w"]


class Equation:
    """One LPA equation in rescaled variables: residual and Jacobian on a collocation grid."""

    name = ""
    label = ""

    def residual(
        self, u: np.ndarray, rho: np.ndarray, D1: np.ndarray, D2: np.ndarray, d: float, eps: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(F, J)``: the right-hand side at the grid points and its Jacobian dF/du (the even
        linearised flow operator)."""
        raise NotImplementedError

    def odd_operator(
        self, u: np.ndarray, rho: np.ndarray, D1: np.ndarray, D2: np.ndarray, d: float, eps: float
    ) -> np.ndarray:
        """The linearised flow acting on ``g`` of the odd perturbation ``phi_1 g(rho)``."""
        raise NotImplementedError

    def asymptotic_power(self, d: float) -> tuple[float, float]:
        """Exponent s of the fixed point's large-rho growth ``u' ~ rho^(s-1)``, used in the
        boundary row at the end of the grid."""
        raise NotImplementedError

    def bc_row(self, rho: np.ndarray, D1: np.ndarray, D2: np.ndarray, d: float) -> tuple[np.ndarray, float]:
        """``(row, rhs)``: the boundary condition ``row . u = rhs`` at rho = R, the large-field
        asymptotics ``R u'' = (s-1) (u' - c)``; any such condition changes the interior solution
        only by the exponentially small amount the super-exponential unphysical mode leaves."""
        s, c = self.asymptotic_power(d)
        R = rho[-1]
        row = R * D2[-1] - (s - 1.0) * D1[-1]
        return row, -(s - 1.0) * c

    def extend(self, R: float, uR: float, u1R: float, rho: np.ndarray | float, d: float) -> np.ndarray:
        """The solution continued beyond R with the large-field form
        ``u' = c + (u'(R) - c) (rho/R)^(s-1)`` integrated (a Newton seed on a longer interval)."""
        s, c = self.asymptotic_power(d)
        rho = np.maximum(np.asarray(rho, float), R)
        return uR + c * (rho - R) + (u1R - c) * R / s * ((rho / R) ** s - 1.0)


class _Wetterich(Equation):
    name = "wetterich"
    label = "Wetterich (Litim regulator)"

    def residual(self, u, rho, D1, D2, d, eps):
        u1, u2 = D1 @ u, D2 @ u
        a = 1.0 + u1
        D = a + 2.0 * rho * u2
        F = -d * u + (d - 2.0) * rho * u1 + (1.0 - eps) / a + eps / D
        c1 = (d - 2.0) * rho - (1.0 - eps) / a**2 - eps / D**2
        c2 = -2.0 * eps * rho / D**2
        J = -d * np.eye(len(u)) + c1[:, None] * D1 + c2[:, None] * D2
        return F, J

    def odd_operator(self, u, rho, D1, D2, d, eps):
        u1, u2 = D1 @ u, D2 @ u
        a = 1.0 + u1
        D = a + 2.0 * rho * u2
        c0 = -d + 0.5 * (d - 2.0)
        c1 = (d - 2.0) * rho - (1.0 - eps) / a**2 - 3.0 * eps / D**2
        c2 = -2.0 * eps * rho / D**2
        return c0 * np.eye(len(u)) + c1[:, None] * D1 + c2[:, None] * D2

    def asymptotic_power(self, d):
        return d / (d - 2.0), 0.0  # u ~ A rho^(d/(d-2))

    @staticmethod
    def admissible(u, rho, D1, D2):
        """The propagators 1/(1+u') and 1/(1+u'+2 rho u'') stay finite and positive."""
        u1 = D1 @ u
        a = 1.0 + u1
        return bool(np.all(a > 0) and np.all(a + 2.0 * rho * (D2 @ u) > 0))


class _Polchinski(Equation):
    name = "polchinski"
    label = "Wilson-Polchinski"

    def residual(self, u, rho, D1, D2, d, eps):
        u1, u2 = D1 @ u, D2 @ u
        F = -d * u + (d - 2.0) * rho * u1 - u1 - 2.0 * eps * rho * u2 + 2.0 * rho * u1**2
        c1 = (d - 2.0) * rho - 1.0 + 4.0 * rho * u1
        c2 = -2.0 * eps * rho
        J = -d * np.eye(len(u)) + c1[:, None] * D1 + np.broadcast_to(c2, rho.shape)[:, None] * D2
        return F, J

    def odd_operator(self, u, rho, D1, D2, d, eps):
        u1 = D1 @ u
        c0 = -d + 0.5 * (d - 2.0) + 2.0 * u1
        c1 = (d - 2.0) * rho - (1.0 + 2.0 * eps) + 4.0 * rho * u1
        c2 = -2.0 * eps * rho
        return np.diag(c0) + c1[:, None] * D1 + np.broadcast_to(c2, rho.shape)[:, None] * D2

    def asymptotic_power(self, d):
        return d / (d + 2.0), 1.0  # u ~ rho - c rho^(d/(d+2))

    @staticmethod
    def admissible(u, rho, D1, D2):
        return True


WETTERICH = _Wetterich()
POLCHINSKI = _Polchinski()
EQUATIONS = {"wetterich": WETTERICH, "polchinski": POLCHINSKI}


def morris_w_to_p(
    rho_w: np.ndarray, w: np.ndarray, w1: np.ndarray, d: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Morris's map, rescaled variables: Wetterich ``w(rho)`` (values ``w``, derivative ``w1``)
    to the Polchinski potential, as points ``(rho_p, u_p, u_p')``.

    ``u(phi) = w(varphi) + |phi - varphi|^2/2 - N/d`` with ``phi = varphi (1 + w')``
    (a Legendre transform), i.e. ``rho_p = rho (1+w')^2``, ``u_p = w + rho w'^2 - 1/d``,
    ``u_p' = w'/(1+w')``.
    """
    rho_w, w, w1 = (np.asarray(x, float) for x in (rho_w, w, w1))
    return rho_w * (1.0 + w1) ** 2, w + rho_w * w1**2 - 1.0 / d, w1 / (1.0 + w1)


def morris_p_to_w(
    rho_p: np.ndarray, u: np.ndarray, u1: np.ndarray, d: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The inverse map: ``rho_w = rho (1-u')^2``, ``w = u - rho u'^2 + 1/d``, ``w' = u'/(1-u')``."""
    rho_p, u, u1 = (np.asarray(x, float) for x in (rho_p, u, u1))
    return rho_p * (1.0 - u1) ** 2, u - rho_p * u1**2 + 1.0 / d, u1 / (1.0 - u1)
