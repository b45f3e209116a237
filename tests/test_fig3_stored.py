"""Chapter 7's stored Fig. 3 run (book/data/fig3, written by `make fig3`): made by the code's own configuration,
and its spectrum recomputed from the stored weights with three Lanczos steps."""

import dataclasses

import numpy as np
import pytest

from qsgd import experiments as qe
from test_fig2_stored import ACCURACY_ATOL, RITZ_RTOL, STORE, _gauss_rule

FIG3 = STORE.parent / "fig3"


@pytest.fixture(scope="module")
def stored3():
    return qe.load_results(FIG3, expected=qe.config_for("fig3"))


def test_the_stored_fig3_run_is_a_spectrum_right_after_pruning(stored3):
    cfg = stored3.config
    assert (cfg.depth, cfg.widen_factor, cfg.stem_width, stored3.num_parameters) == (8, 4, 16, 77754)
    np.testing.assert_array_equal(stored3.spectrum_steps, [0])
    assert stored3.train_accuracy[0] == stored3.pruned_accuracy
    assert stored3.pretrain_loss.shape == (cfg.pretrain_steps,)


@pytest.mark.slow
def test_the_fig3_spectrum_recomputed_with_three_lanczos_steps(stored3):
    cfg = stored3.config
    prefix = dataclasses.replace(cfg, pretrained=str(FIG3 / "pretrained.pt"), lanczos_steps=3).validate()
    res = qe.run_experiment(prefix)
    assert abs(res.pruned_accuracy - stored3.pruned_accuracy) <= ACCURACY_ATOL
    theta, w = _gauss_rule(stored3.ritz_nodes[0, 0], stored3.ritz_weights[0, 0], 3)
    radius = float(np.abs(stored3.ritz_nodes[0, 0]).max())
    np.testing.assert_allclose(res.ritz_nodes[0, 0], theta, atol=RITZ_RTOL * radius)
    np.testing.assert_allclose(res.ritz_weights[0, 0], w, atol=1e-3)
