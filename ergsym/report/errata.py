"""Statements of seed 000 that ergsym contradicts, each with the command that shows it.

One list, used by the report's errata section and by ``docs/errata.md`` (generated:
``python -m ergsym.report.errata > docs/errata.md``; a test checks the file is current and
runs every command, checking that its output contains the ``expect`` strings).  Commands are
run from the repository root.
"""
from __future__ import annotations

__all__ = ["ERRATA", "to_markdown"]

#: Each entry: ``where`` (equation), ``paper`` (what it says), ``finding`` (what ergsym finds),
#: ``commands`` (shell commands that show it), ``expect`` (command -> substrings of its output).
ERRATA = [
    {
        "id": "5.15",
        "where": "(5.15) and (5.11)-(5.14)",
        "paper": "A = delta(0)[(3/2) f0 - (1/2) lam f1 + (7/24) lam^2 f2 + O(lam^3)], the sum of "
                 "the printed pieces (5.11)-(5.14).",
        "finding": "Deriving (5.6) contraction by contraction gives A = (3/2) f0 - (5/4) lam f1 + "
                   "lam^2 [(1/2) f2 + (5/8) t1*T*T2 + (3/4) u1*T^2] + O(lam^3). In zero dimensions "
                   "(one mode) the exact Taylor coefficients of the one-dimensional integral agree "
                   "with the derivation and not with (5.15); every piece but (5.11) at O(lam^0) "
                   "differs somewhere.",
        "commands": ["ergsym monotone --order 2 --form A",
                     "python worked_examples/reproduce_sec5.py --fast"],
        "expect": {"ergsym monotone --order 2 --form A": ["- 5/4 lam f1", "<- differs"],
                   "python worked_examples/reproduce_sec5.py --fast": ["zero dimensions", "agrees with the engine: True"]},
    },
    {
        "id": "5.13",
        "where": "(5.13)",
        "paper": "-2 <int Cdot dS dS> = delta(0)(-2 f0 - lam f1 - (2/3) lam^2 f2 + O(lam^3)).",
        "finding": "The expansion of (5.6) needs -2 <int Cdot dS dShat> (the printed dS dS is a "
                   "typo), and the Schwinger-Dyson identity <dS/dphi_i F> = <dF/dphi_i> makes it "
                   "exactly -2 delta(0) f0 with no lam correction at any order.",
        "commands": ["ergsym monotone --order 3 --form dSdShat --no-compare --no-latex"],
        "expect": {"ergsym monotone --order 3 --form dSdShat --no-compare --no-latex":
                   ["O(0): - 2 f0", "O(1): 0", "O(2): 0", "O(3): 0"]},
    },
    {
        "id": "families",
        "where": "(5.8)-(5.15): the families f0, f1, f2",
        "paper": "The O(lam^2) result needs only f0, f1 = t1*T and the sunset f2.",
        "finding": "A complete expansion keeps tadpole insertions: at O(lam^2) A and B also need "
                   "t1*T*T2 and u1*T^2 (tadpole chains), and from O(lam^3) on dressed sunsets and "
                   "general three-vertex blocks.",
        "commands": ["ergsym monotone --order 2 --form B --no-compare --no-latex"],
        "expect": {"ergsym monotone --order 2 --form B --no-compare --no-latex": ["t1·T·T2", "u1·T^2"]},
    },
    {
        "id": "5.1",
        "where": "(5.1)/(5.2) and (4.5)/(5.5)",
        "paper": "Free field: M = -(3/2) delta(0) int log(K_Lambda/K_Lambda0) and -Lambda dM/dLambda = "
                 "(3/2) delta(0) f0; (4.5)/(5.5) is the derivative of the monotone.",
        "finding": "(3/2) f0 is the printed expression A at lam = 0. The derivative of M = "
                   "S(P||Q) - log Z_Q along the flow is B = -(1/2)<int Cdot dSigma dSigma> - "
                   "2<Lambda dShat/dLambda> (relative-Fisher term with a minus sign), which is "
                   "(1/2) f0 for the free field (one mode: M = const - (1/2) log k). The test suite "
                   "evolves P exactly and differences M: B matches, A does not.",
        "commands": ["ergsym monotone --order 0 --form B --no-compare --no-latex",
                     "python worked_examples/free_field_monotone.py --fast",
                     "python -m pytest -q tests/test_monotone_flow.py"],
        "expect": {"ergsym monotone --order 0 --form B --no-compare --no-latex": ["O(0): 1/2 f0"],
                   "python worked_examples/free_field_monotone.py --fast": ["-Lambda dM/dLambda matches B"]},
    },
    {
        "id": "4.20",
        "where": "(4.20), (4.21), (4.22)",
        "paper": "-<Lambda dS_free/dLambda> = delta(0) int d^dp Lambda d log K/dLambda (4.20); hence "
                 "(4.21) = +(1/2) delta(0) f0 and the order-of-limits inequality (4.22).",
        "finding": "Each mode contributes (1/2) D/k, so -<Lambda dS_free/dLambda> = (1/2) delta(0) f0, "
                   "as (4.25) requires (it must equal (4.18)). With (4.20) corrected, (4.21) is "
                   "-(1/2) f0 + (1/2) f0 = 0, equal to (4.13): for the free field differentiating "
                   "under the integral gives the same answer, and the puzzle of (4.22) disappears.",
        "commands": ["ergsym monotone --order 0 --form LdShat --no-compare --no-latex",
                     "python worked_examples/free_field_monotone.py --fast"],
        "expect": {"ergsym monotone --order 0 --form LdShat --no-compare --no-latex": ["O(0): 1 f0"],
                   "python worked_examples/free_field_monotone.py --fast": ["(4.20) corrected", "(4.21) corrected"]},
    },
    {
        "id": "B7",
        "where": "(B7)",
        "paper": "For Lambda > Lambda_max the cutoff (B7) satisfies (B3) and continues the family.",
        "finding": "(B7) is not monotone in Lambda: on (Lambda^2 + eps e^(Lambda_max^2-Lambda^2), "
                   "Lambda^2 + eps) K equals eps e^(Lambda_max^2-Lambda^2), which decreases as Lambda "
                   "grows, so D = Lambda dKt/dLambda < 0 there. ergsym refuses Lambda > lambda_max.",
        "commands": ["ergsym cutoff bump:eps=0.1,lambda_max=2 --Lambda 2.5",
                     "python worked_examples/integrals_vs_Lambda_eps.py --fast"],
        "expect": {"ergsym cutoff bump:eps=0.1,lambda_max=2 --Lambda 2.5": ["not monotone"],
                   "python worked_examples/integrals_vs_Lambda_eps.py --fast": ["(B7) decreases with Lambda"]},
        "exit_codes": {"ergsym cutoff bump:eps=0.1,lambda_max=2 --Lambda 2.5": 2},
    },
    {
        "id": "4.10",
        "where": "(4.9)/(4.10) and Sec. IV A (monotonicity)",
        "paper": "-Lambda dM/dLambda >= 0 non-perturbatively.",
        "finding": "The positive expression is A (a sum of two non-negative terms). The true "
                   "derivative B is not positive at strong coupling: one mode (zero dimensions) with "
                   "k = 0.7, D = 0.3, lam = 30 gives B = -0.0359 by direct integration (A = 0.326).",
        "commands": ["python worked_examples/one_mode_strong_coupling.py --fast"],
        "expect": {"python worked_examples/one_mode_strong_coupling.py --fast": ["B = -0.0359"]},
    },
]


def to_markdown() -> str:
    """``docs/errata.md``."""
    out = ["# Errata: statements of seed 000 that ergsym contradicts", "",
           "Seed 000 is Cotler & Rezchikov, \"Renormalization group flow as optimal transport\", "
           "Phys. Rev. D 108, 025003 (2023). Each entry: what the paper says, what ergsym finds, and "
           "the commands that show it (run from the repository root after `pip install -e .`). "
           "The test suite (`tests/test_report_errata.py`) runs every command and checks its output; "
           "this page is generated from `ergsym/report/errata.py` "
           "(`python -m ergsym.report.errata > docs/errata.md`). The report's last section is the "
           "same list.", "",
           "Conventions are those of [conventions.md](conventions.md): `A` is the expression the "
           "paper prints as the derivative of the monotone, `B = -Λ dM/dΛ` the actual derivative "
           "along the flow.", ""]
    for i, e in enumerate(ERRATA, 1):
        out += [f"## {i}. {e['where']}", "", f"**Paper:** {e['paper']}", "",
                f"**ergsym:** {e['finding']}", "", "**Shown by:**", "", "```bash"]
        out += e["commands"]
        out += ["```", ""]
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(to_markdown(), end="")
