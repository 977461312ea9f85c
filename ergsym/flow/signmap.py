"""The sign of B = -Lambda dM/dLambda over (lam, Lambda/Lambda0) on a lattice (docs/monotone_sign.md).

Each cell is one ``--method mc`` point (:func:`ergsym.flow.mcflow.mc_flow`, B only, its own
outer samples).  A cell's verdict is ``"positive"`` / ``"negative"`` when B is more than
``n_sigma`` errors from zero, ``"undecided"`` otherwise, ``"unreliable"`` when the point is
flagged (replica check, acceptance, R-hat), and ``"no flowing mode"`` when no lattice momentum
lies in the support of ``dK/dLambda`` (then B = 0 exactly and M does not change).

The boundary ``lam*(Lambda)`` where B changes sign is bracketed between the largest coupling
with a positive verdict and the smallest with a negative one at the same scale; a linear
interpolation of B in ``log lam`` between them gives a point estimate.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from .mcflow import MCSettings, mc_flow
from .problem import FlowProblem

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..cutoffs import Cutoff
    from ..inputs import Lattice

__all__ = ["sign_cell", "sign_map", "boundaries", "N_SIGMA"]

N_SIGMA = 3.0


def sign_cell(problem: FlowProblem, Lambda: float, settings: MCSettings) -> dict:
    """One cell of the map: B with its error, the free value and the verdict."""
    L = problem.check_Lambda(Lambda)
    b_free = problem.free_B(L)
    cell = {"lam": problem.lam, "Lambda": L, "ratio": L / problem.Lambda0, "B_free": b_free}
    if problem.N != 1:  # N = 1 cells stay as they were
        cell["N"] = problem.N
    if not problem.at(L).shell.any():
        cell.update({"B": 0.0, "error": 0.0, "verdict": "no flowing mode", "reliable": True})
        return cell
    r = mc_flow(problem, [L], settings, with_m=False)
    pt = r["points"][0]
    b = pt["values"]["B"]
    cell.update(
        {
            "B": b["value"],
            "error": b["error"],
            "reliable": bool(b["converged"]),
            "B_over_B_free": b["value"] / b_free,
            "reasons": b.get("reasons", []),
        }
    )
    if not b["converged"]:
        cell["verdict"] = "unreliable"
    elif b["value"] > N_SIGMA * b["error"]:
        cell["verdict"] = "positive"
    elif b["value"] < -N_SIGMA * b["error"]:
        cell["verdict"] = "negative"
    else:
        cell["verdict"] = "undecided"
    return cell


def sign_map(
    lattice: str | tuple[int, ...] | Lattice,
    cutoff: str | Cutoff,
    mass: float,
    Lambda0: float,
    lams: Sequence[float],
    ratios: Sequence[float],
    settings: MCSettings,
    progress: Callable[[int, int], object] | None = None,
    N: int = 1,
) -> list:
    """Cells over the grid ``lams x ratios`` (``Lambda = ratio * Lambda0``), seeds per cell.

    ``N``: field components (O(N) model; B summed over them, free B ``N`` times one component's).
    """
    cells = []
    k = 0
    for lam in lams:
        problem = FlowProblem.build(lattice, cutoff, mass, Lambda0, lam, N=N)
        for ratio in ratios:
            s = replace(settings, seed=settings.seed + 1000 * k)
            cells.append(sign_cell(problem, ratio * problem.Lambda0, s))
            k += 1
            if progress is not None:
                progress(k, len(lams) * len(ratios))
    return cells


def boundaries(cells: list) -> list:
    """Per scale: the bracket ``[lam_lo, lam_hi]`` of the sign change and an interpolated ``lam*``.

    ``lam_lo`` = largest coupling with B positive below the first negative one; ``None`` entries
    when B never turns negative on the grid (``lam* > max lam``) or is negative already at the
    smallest coupling.
    """
    out = []
    for L in sorted({c["Lambda"] for c in cells}):
        row = sorted((c for c in cells if c["Lambda"] == L), key=lambda c: c["lam"])
        if all(c["verdict"] == "no flowing mode" for c in row):
            continue
        neg = [i for i, c in enumerate(row) if c["verdict"] == "negative"]
        entry = {"Lambda": L, "ratio": row[0]["ratio"], "lam_lo": None, "lam_hi": None, "lam_star": None}
        if not neg:
            entry["note"] = f"B > 0 (or undecided) up to lam = {row[-1]['lam']:g}"
            out.append(entry)
            continue
        j = neg[0]
        pos = [i for i in range(j) if row[i]["verdict"] == "positive"]
        entry["lam_hi"] = row[j]["lam"]
        if pos:
            i = pos[-1]
            entry["lam_lo"] = row[i]["lam"]
            b1, b2 = row[i]["B"], row[j]["B"]
            x1, x2 = math.log(row[i]["lam"]), math.log(row[j]["lam"])
            entry["lam_star"] = math.exp(x1 + (x2 - x1) * b1 / (b1 - b2))
        else:
            entry["note"] = "B < 0 already at the smallest coupling of the grid"
        out.append(entry)
    return out
