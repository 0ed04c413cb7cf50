"""The ROI-constrained optimiser: one bid level per keyword under ROI floors and budgets.

A multiple-choice knapsack with side constraints, solved the way it is solved at scale:
Lagrangian multipliers per campaign constraint (and one for the shop budget), a bracket search
on them with the per-entity choice priced in vectorised passes, a discrete repair and fill, and
the dual value as a proven upper bound.  ``solve_exact`` is the HiGHS MILP yardstick.
"""

from __future__ import annotations

from bidopt.optimise.exact import solve_exact
from bidopt.optimise.problem import Solution
from bidopt.optimise.solver import solve

__all__ = ["Solution", "solve", "solve_exact"]
