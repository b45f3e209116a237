"""The a priori guarantee of a segment and the planner (qsgd.guarantee)."""

import math
import warnings

import numpy as np
import pytest

from qsgd.derivative_bounds import polynomial_loss, polynomial_loss_bounds
from qsgd.gd import polynomial_map
from qsgd.guarantee import Guarantee, SegmentPlan, plan_segment, segment_guarantee
from qsgd.pipeline import SegmentSettings, quantum_gd

H = np.array([[1.0, 0.2], [0.2, 0.6]])
G = np.array([1.0, -0.5])
A3 = np.zeros((2, 2, 2))
for i in range(2):
    A3[i, i, i] = 0.1
TENSORS = [0.0, -G, 0.5 * H, A3]  # a cubic loss: the degree-2 map has no Taylor remainder
LOSS = polynomial_loss(TENSORS)
THETA0 = np.array([0.1, -0.2])
ETA = 0.5
BOUNDS = polynomial_loss_bounds(TENSORS, THETA0, radius=2.0, degree=2)
BASE = SegmentSettings(eta=ETA, steps=1, order=2, clock_qubits=8, shots=10_000, basis="symmetric")


def pmap():
    return polynomial_map(LOSS, THETA0, eta=ETA, degree=2)


def test_the_guarantee_is_a_sum_of_its_terms_and_needs_no_run():
    g = segment_guarantee(pmap(), SegmentSettings(eta=ETA, steps=3, order=2, clock_qubits=12, shots=10**6,
                                                  basis="symmetric"), derivative_bounds=BOUNDS)
    assert isinstance(g, Guarantee) and g.complete and g.success
    np.testing.assert_allclose(g.total, sum(g.terms.values()), rtol=1e-12)
    assert g.dominant in g.terms and g.terms[g.dominant] == max(g.terms.values())
    assert g.terms["taylor"] == 0.0  # cubic loss, degree-2 map: exact


def test_planned_segments_meet_their_tolerance_when_run():
    for tolerance in (0.5, 0.1):
        plan = plan_segment(pmap(), BASE, tolerance=tolerance, derivative_bounds=BOUNDS, max_steps=8,
                            max_clock_qubits=16)
        assert isinstance(plan, SegmentPlan) and plan.guarantee.success
        assert plan.guarantee.total <= tolerance
        res = quantum_gd(LOSS, THETA0, plan.settings, rng=0, derivative_bounds=BOUNDS)
        assert res.success, res.message
        assert res.report.errors["total"].error <= res.report.errors["total"].bound <= tolerance
        # T stops where the half budget of the Taylor and truncation terms breaks (or earlier, when the
        # solver and the copies cannot fit the rest at the longer T)
        T, (last, first_half) = plan.settings.steps, plan.tried[-1]
        assert T < last and first_half > tolerance / 2 or last == 8
        assert all(b <= tolerance / 2 for t, b in plan.tried if t <= T)


def test_a_smaller_tolerance_costs_more_clock_qubits_and_copies():
    loose = plan_segment(pmap(), BASE, tolerance=0.5, derivative_bounds=BOUNDS, max_steps=1)
    tight = plan_segment(pmap(), BASE, tolerance=0.05, derivative_bounds=BOUNDS, max_steps=1)
    assert tight.settings.clock_qubits > loose.settings.clock_qubits
    assert tight.settings.shots > loose.settings.shots


def test_the_planner_refuses_what_nothing_meets():
    with pytest.raises(ValueError, match="plan_segment: no segment meets tolerance"):
        plan_segment(pmap(), BASE, tolerance=1e-6, derivative_bounds=BOUNDS, max_steps=2, max_clock_qubits=8)
    with pytest.raises(ValueError, match="derivative_bounds must be a DerivativeBounds"):
        plan_segment(pmap(), BASE, tolerance=0.1, derivative_bounds=None)
    with pytest.raises(ValueError, match="tolerance"):
        plan_segment(pmap(), BASE, tolerance=-1.0, derivative_bounds=BOUNDS)
    with pytest.raises(ValueError, match="max_steps"):
        plan_segment(pmap(), BASE, tolerance=0.1, derivative_bounds=BOUNDS, max_steps=0)


def test_segment_guarantee_bad_input():
    with pytest.raises(ValueError, match="segment_guarantee: derivative_bounds must be a DerivativeBounds"):
        segment_guarantee(pmap(), BASE, derivative_bounds="x")
    with pytest.raises(ValueError, match="segment_guarantee: tolerance"):
        segment_guarantee(pmap(), BASE, tolerance=math.nan)
    with pytest.raises(ValueError, match="segment_guarantee: decomposition must be a Decomposition"):
        segment_guarantee(pmap(), BASE, decomposition=np.eye(2))


def test_without_copies_the_tomography_term_is_zero_and_with_few_it_is_infinite():
    exact = segment_guarantee(pmap(), SegmentSettings(eta=ETA, steps=2, order=2, clock_qubits=12, shots=None,
                                                      basis="symmetric"), derivative_bounds=BOUNDS)
    assert exact.terms["tomography"] == 0.0 and exact.tomography_state == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        few = segment_guarantee(pmap(), SegmentSettings(eta=ETA, steps=2, order=2, clock_qubits=12, shots=10,
                                                        basis="symmetric"), derivative_bounds=BOUNDS)
    assert few.terms["tomography"] == math.inf and not few.success and "tomography" in few.message
