"""Statements of Cotler & Rezchikov, PRD 108, 025003 (2023) that ergsym contradicts.

One list, used by the report's errata section and by ``docs/errata.md`` (generated:
``python -m ergsym.report.errata > docs/errata.md``; a test checks the file is current and
runs every command, checking that its output contains the ``expect`` strings).  Commands are
run from the repository root.  ``python -m ergsym.report.errata --show B7`` prints the
evidence against (B7) (a negative ``dK/dLambda``).

Each entry: ``where`` (equations), ``step`` (the step of the paper that fails, LaTeX text),
``printed`` / ``correct`` (displayed LaTeX equations), ``number`` (the decisive number, LaTeX
text, as the command prints it), ``paper`` / ``finding`` (plain text for the docs),
``commands``, ``expect`` (command -> substrings of its output), ``exit_codes`` (default 0).
"""

from __future__ import annotations

import math
import sys

__all__ = ["ERRATA", "to_markdown", "b7_evidence", "main"]

ERRATA = [
    {
        "id": "4.5",
        "where": "(4.4) to (4.5), (5.1)/(5.2)",
        "step": r"the integration by parts from (4.4) to (4.5): the relative-Fisher term must change sign",
        "printed": r"-\Lambda\frac{\mathrm{d}M}{\mathrm{d}\Lambda}=A=+\tfrac12\Big\langle\int\dot C\,"
        r"\delta\Sigma\,\delta\Sigma\Big\rangle-2\langle\Lambda\partial_\Lambda\hat S\rangle,"
        r"\qquad A_{\rm free}=\tfrac32\,\delta^d(0)f_0",
        "correct": r"-\Lambda\frac{\mathrm{d}M}{\mathrm{d}\Lambda}=B=-\tfrac12\Big\langle\int\dot C\,"
        r"\delta\Sigma\,\delta\Sigma\Big\rangle-2\langle\Lambda\partial_\Lambda\hat S\rangle,"
        r"\qquad B_{\rm free}=\tfrac12\,\delta^d(0)f_0",
        "number": r"one mode with $k=0.35$, $D=0.35$: $-\Lambda\,\mathrm{d}M/\mathrm{d}\Lambda=0.5000000000$ "
        r"(exact flow, finite difference) $=B$, while $A=1.5$",
        "paper": "-Lambda dM/dLambda = A = +(1/2)<int Cdot dSigma dSigma> - 2<Lambda dShat/dLambda>; "
        "free field (3/2) f0.",
        "finding": "Integrating (4.4) by parts gives B = -(1/2)<int Cdot dSigma dSigma> - "
        "2<Lambda dShat/dLambda> (the relative-Fisher term with a minus sign): (1/2) f0 for "
        "the free field. Differencing the exactly evolved M of one mode: B matches, A does not.",
        "commands": [
            "python worked_examples/free_field_monotone.py --fast",
            "ergsym monotone --order 0 --form B --no-compare --no-latex",
        ],
        "expect": {
            "python worked_examples/free_field_monotone.py --fast": ["-Lambda dM/dLambda matches B"],
            "ergsym monotone --order 0 --form B --no-compare --no-latex": ["O(0): 1/2 f0"],
        },
    },
    {
        "id": "5.15",
        "where": "(5.15) and (5.11)-(5.14)",
        "step": r"the Wick expansion of (5.6): tadpole contractions and the $O(\lambda)$ terms of "
        r"(5.11) and (5.12) are dropped, and (5.13), (5.14) carry wrong coefficients",
        "printed": r"A=\delta^d(0)\Big[\tfrac32 f_0-\tfrac12\lambda f_1+\tfrac{7}{24}\lambda^2f_2+O(\lambda^3)\Big]",
        "correct": r"A=\delta^d(0)\Big[\tfrac32 f_0-\tfrac54\lambda f_1+\lambda^2\big(\tfrac12 f_2+"
        r"\tfrac58\,t_1TT_2+\tfrac34\,u_1T^2\big)+O(\lambda^3)\Big]",
        "number": r"zero dimensions ($k=7/10$, $D=3/10$): the exact $\lambda^1$ Taylor coefficient of $A$ is "
        r"$-21/80=-0.2625$; the engine gives $-0.2625000000$, (5.15) gives $-0.1050000000$",
        "paper": "A = delta(0)[(3/2) f0 - (1/2) lam f1 + (7/24) lam^2 f2 + O(lam^3)].",
        "finding": "A = (3/2) f0 - (5/4) lam f1 + lam^2 [(1/2) f2 + (5/8) t1*T*T2 + (3/4) u1*T^2] + "
        "O(lam^3). In zero dimensions the exact Taylor coefficients of the one-dimensional "
        "integral agree with the derivation and not with (5.15).",
        "commands": ["ergsym monotone --order 2 --form A", "python worked_examples/reproduce_sec5.py --fast"],
        "expect": {
            "ergsym monotone --order 2 --form A": ["- 5/4 lam f1", "<- differs"],
            "python worked_examples/reproduce_sec5.py --fast": [
                "zero dimensions",
                "agrees with the engine: True",
                "-0.2625000000",
                "-0.1050000000",
            ],
        },
    },
    {
        "id": "5.13",
        "where": "(5.13)",
        "step": r"the operator: the expansion of (5.6) needs $\delta S\,\delta\hat S$, the paper prints "
        r"$\delta S\,\delta S$; and the Schwinger--Dyson identity "
        r"$\langle\partial_iS\,F\rangle=\langle\partial_iF\rangle$ makes the right one exact",
        "printed": r"-2\Big\langle\int\dot C\,\delta S\,\delta S\Big\rangle=\delta^d(0)\Big[-2f_0-\lambda f_1"
        r"-\tfrac23\lambda^2f_2+O(\lambda^3)\Big]",
        "correct": r"-2\Big\langle\int\dot C\,\delta S\,\delta\hat S\Big\rangle=-2\,\delta^d(0)f_0"
        r"\quad\text{exactly (no $\lambda$ correction at any order)}",
        "number": r"the engine's coefficients through $O(\lambda^3)$: $-2f_0$, $0$, $0$, $0$",
        "paper": "-2 <int Cdot dS dS> = delta(0)(-2 f0 - lam f1 - (2/3) lam^2 f2 + O(lam^3)).",
        "finding": "The expansion of (5.6) needs -2 <int Cdot dS dShat> (dS dS is a typo), and the "
        "Schwinger-Dyson identity makes it exactly -2 delta(0) f0 with no lam correction.",
        "commands": ["ergsym monotone --order 3 --form eq5.13 --no-compare --no-latex"],
        "expect": {
            "ergsym monotone --order 3 --form eq5.13 --no-compare --no-latex": [
                "O(0): - 2 f0",
                "O(1): 0",
                "O(2): 0",
                "O(3): 0",
            ]
        },
    },
    {
        "id": "families",
        "where": "(5.8)-(5.15): the families",
        "step": r"the contractions kept: tadpole insertions on the lines of the one-loop terms are dropped",
        "printed": r"O(\lambda^2):\ \text{only } f_2",
        "correct": r"O(\lambda^2):\ f_2,\quad t_1\,T\,T_2=\int\! d^dp\,D\int_q\tilde K\int_q\tilde K^2,\quad "
        r"u_1\,T^2=\int\! d^dp\,D\tilde K\,\Big(\int_q\tilde K\Big)^2",
        "number": r"$B$ at $O(\lambda^2)$: $-\tfrac16 f_2-\tfrac18\, t_1TT_2-\tfrac14\, u_1T^2$",
        "paper": "The O(lam^2) result needs only f0, f1 = t1*T and the sunset f2.",
        "finding": "A complete expansion keeps tadpole insertions: at O(lam^2) A and B also need "
        "t1*T*T2 and u1*T^2, and from O(lam^3) on dressed sunsets and three-vertex blocks.",
        "commands": ["ergsym monotone --order 2 --form B --no-compare --no-latex"],
        "expect": {"ergsym monotone --order 2 --form B --no-compare --no-latex": ["t1·T·T2", "u1·T^2"]},
    },
    {
        "id": "4.20",
        "where": "(4.20), (4.21), (4.22)",
        "step": r"the Gaussian average in (4.20): each mode contributes $\tfrac12 D/k$, not $D/k$ "
        r"(it must equal (4.18) by (4.25))",
        "printed": r"-\langle\Lambda\partial_\Lambda S_{\rm free}\rangle=\delta^d(0)\int d^dp\,"
        r"\Lambda\partial_\Lambda\log K=\delta^d(0)f_0",
        "correct": r"-\langle\Lambda\partial_\Lambda S_{\rm free}\rangle=\tfrac12\,\delta^d(0)f_0,"
        r"\qquad\text{(4.21)}=-\tfrac12f_0+\tfrac12f_0=0=\text{(4.13)}",
        "number": r"one mode: $-\langle\Lambda\partial_\Lambda S_{\rm free}\rangle=0.5000000000=0.5\,f_0$; "
        r"(4.21) $=3\times10^{-13}$ (zero to rounding)",
        "paper": "-<Lambda dS_free/dLambda> = delta(0) int d^dp Lambda d log K/dLambda (4.20); "
        "hence (4.21) and the order-of-limits inequality (4.22).",
        "finding": "Each mode contributes (1/2) D/k, so -<Lambda dS_free/dLambda> = (1/2) delta(0) f0; "
        "(4.21) then vanishes, equal to (4.13), and the puzzle of (4.22) disappears for the "
        "free field.",
        "commands": [
            "python worked_examples/free_field_monotone.py --fast",
            "ergsym monotone --order 0 --form eq5.11 --no-compare --no-latex",
        ],
        "expect": {
            "python worked_examples/free_field_monotone.py --fast": ["(4.20) corrected", "(4.21) corrected"],
            "ergsym monotone --order 0 --form eq5.11 --no-compare --no-latex": ["O(0): 1 f0"],
        },
    },
    {
        "id": "B7",
        "where": "(B7)",
        "step": r"the claim that (B7) satisfies (B3) for $\Lambda>\Lambda_{\max}$: on "
        r"$\Lambda^2+\varepsilon e^{\Lambda_{\max}^2-\Lambda^2}<p^2<\Lambda^2+\varepsilon$ the "
        r"cutoff equals its plateau value, which falls as $\Lambda$ grows",
        "printed": r"K_\Lambda\ \text{of (B7) is monotone in }\Lambda\text{ for }\Lambda>\Lambda_{\max}",
        "correct": r"K_\Lambda(p^2)=\varepsilon\,e^{\Lambda_{\max}^2-\Lambda^2}\ \text{there, so}\ "
        r"\partial_\Lambda K_\Lambda=-2\Lambda\,\varepsilon\,e^{\Lambda_{\max}^2-\Lambda^2}<0",
        "number": r"$\varepsilon=0.1$, $\Lambda_{\max}=2$, $\Lambda=2.5$, $p^2=6.3$: "
        r"$\partial_\Lambda K=-0.0527$ (finite difference and closed form)",
        "paper": "For Lambda > Lambda_max the cutoff (B7) satisfies (B3) and continues the family.",
        "finding": "On (Lambda^2 + eps e^(Lambda_max^2-Lambda^2), Lambda^2 + eps) K equals "
        "eps e^(Lambda_max^2-Lambda^2), which decreases as Lambda grows, so D < 0 there. "
        "ergsym refuses Lambda > lambda_max.",
        "commands": [
            "python -m ergsym.report.errata --show B7",
            "python worked_examples/integrals_vs_Lambda_eps.py --fast",
        ],
        "expect": {
            "python -m ergsym.report.errata --show B7": ["dK/dLambda = -0.0527", "< 0"],
            "python worked_examples/integrals_vs_Lambda_eps.py --fast": ["(B7) decreases with Lambda"],
        },
    },
    {
        "id": "4.10",
        "where": "(4.9)/(4.10) and Sec. IV A (monotonicity)",
        "step": r"positivity is shown for $A$, a sum of two non-negative terms; the derivative $B$ "
        r"has the Fisher term with a minus sign and no definite sign",
        "printed": r"-\Lambda\frac{\mathrm{d}M}{\mathrm{d}\Lambda}\ge0\quad\text{non-perturbatively}",
        "correct": r"-\Lambda\frac{\mathrm{d}M}{\mathrm{d}\Lambda}=B<0\quad\text{for one mode at }"
        r"\lambda>\lambda^*\approx26.1\ (k=0.7,\ D=0.3)",
        "number": r"one mode, $k=0.7$, $D=0.3$, $\lambda=30$: $B=-0.035906$ by direct integration "
        r"($A=0.326285$)",
        "paper": "-Lambda dM/dLambda >= 0 non-perturbatively.",
        "finding": "The positive expression is A. The true derivative B is negative at strong coupling: "
        "one mode with k = 0.7, D = 0.3, lam = 30 gives B = -0.035906 (A = 0.326285).",
        "commands": ["python worked_examples/one_mode_strong_coupling.py --fast"],
        "expect": {"python worked_examples/one_mode_strong_coupling.py --fast": ["-0.035906", "0.326285"]},
    },
]


def b7_evidence(
    eps: float = 0.1, lambda_max: float = 2.0, Lambda: float = 2.5, p2: float = 6.3, h: float = 1e-5
) -> dict:
    """``dK/dLambda`` of (B7) at one point, by central difference and in closed form.

    Returns
    -------
    dict
        ``{"finite_difference", "closed_form", "window"}``; the window is
        ``(Lambda^2 + eps e^(lambda_max^2 - Lambda^2), Lambda^2 + eps)``.
    """
    from ..cutoffs.bump import BumpCutoff

    c = BumpCutoff(eps, lambda_max)
    fd = float((c._K_b7([p2], Lambda + h)[0] - c._K_b7([p2], Lambda - h)[0]) / (2 * h))
    closed = -2 * Lambda * eps * math.exp(lambda_max**2 - Lambda**2)
    lo = Lambda**2 + eps * math.exp(lambda_max**2 - Lambda**2)
    return {"finite_difference": fd, "closed_form": closed, "window": (lo, Lambda**2 + eps)}


def to_markdown() -> str:
    """``docs/errata.md``."""
    out = [
        "# Errata: statements of the paper that ergsym contradicts",
        "",
        'The paper is J. Cotler and S. Rezchikov, "Renormalization group flow as optimal '
        "transport\", Phys. Rev. D 108, 025003 (2023); equation numbers are the paper's. Each "
        "entry: the step of the paper that fails, the equation as printed and as ergsym derives "
        "it, the decisive number, and the commands that show it (run from the repository root "
        "after `pip install -e .`). The test suite (`tests/test_report_errata.py`) runs every "
        "command and checks its output; this page is generated from `ergsym/report/errata.py` "
        "(`python -m ergsym.report.errata > docs/errata.md`). The report's last section is the "
        "same list.",
        "",
        "Conventions are those of [conventions.md](conventions.md): `A` is the expression the "
        "paper prints as the derivative of the monotone, `B = -Λ dM/dΛ` the actual derivative "
        "along the flow.",
        "",
    ]
    for i, e in enumerate(ERRATA, 1):
        out += [
            f"## {i}. {e['where']}",
            "",
            f"**Step that fails:** {e['step']}",
            "",
            "**Printed:**",
            "",
            "$$" + e["printed"] + "$$",
            "",
            "**Correct:**",
            "",
            "$$" + e["correct"] + "$$",
            "",
            f"**Decisive number:** {e['number']}",
            "",
            f"**In words.** Paper: {e['paper']} ergsym: {e['finding']}",
            "",
            "**Shown by:**",
            "",
            "```bash",
        ]
        out += e["commands"]
        out += ["```", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """``python -m ergsym.report.errata [--show B7]``: the docs page, or one erratum's evidence."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(to_markdown(), end="")
        return 0
    if argv == ["--show", "B7"]:
        ev = b7_evidence()
        lo, hi = ev["window"]
        print(
            "(B7) with eps = 0.1, lambda_max = 2 at Lambda = 2.5, p^2 = 6.3 "
            f"(inside the window {lo:.5f} < p^2 < {hi:.5f}):"
        )
        print(f"  dK/dLambda = {ev['finite_difference']:.4f} (central difference, step 1e-5)")
        print(f"  dK/dLambda = {ev['closed_form']:.4f} (closed form -2 Lambda eps e^(lambda_max^2 - Lambda^2))")
        print("  < 0: K decreases as Lambda grows, so D = Lambda dKt/dLambda < 0 and (B3) fails.")
        return 0
    print("usage: python -m ergsym.report.errata [--show B7]", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
