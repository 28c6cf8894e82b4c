"""Choose the weights of the jerk model (``detector.classify.JERK_WEIGHTS``) on synthetic nights.

Run ``python -m hypnic.benchmarks.dev.fit_jerk_model [N]``: it generates N nights (default 144, seeds 500 on) with the
*default* generator parameters over every rate, both placements, noise 90-300 µg/√Hz, amplitude
scales ×0.5-×2, rotations, gaps and non-wear, collects the features of every transient burst with
whether it is a true hypnic jerk (the window feature from the *estimated* onset, the shape
features from the raw snippets, as in use), and fits an
L2-regularised logistic regression (scipy). The robust parameter set is never used here: it checks the result in
``hypnic bench accuracy``.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import minimize

from hypnic.benchmarks.scoring import match


def collect(seeds: range) -> tuple[np.ndarray, np.ndarray]:
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.detector import classify
    from hypnic.detector.bursts import EVENT_DTYPE
    from hypnic.detector.options import AnalysisOptions
    from hypnic.pipeline import analyze_stream
    from hypnic.recordings.samples import SampleStream

    # Only the features and the onset are needed here: a zero model of the right width lets the
    # pipeline run whatever columns jerk_features has now.
    width = classify.jerk_features(np.zeros(1, dtype=EVENT_DTYPE), np.ones(1, bool), 0.0).shape[1]
    classify.JERK_WEIGHTS = np.zeros(width + 1)
    xs, ys = [], []
    for seed in seeds:
        fs = (12.5, 25.0, 50.0, 100.0, 200.0, 400.0)[seed % 6]
        placement = ("wrist", "ankle")[(seed // 6) % 2]
        scale = (1.0, 0.5, 2.0, 0.7, 1.4)[seed % 5]
        night = simulate_night(seed, fs, 6.5, placement, noise_density=(90.0, 200.0, 300.0)[seed % 3],
                               amplitude_scale=scale, rotation="random" if seed % 4 == 0 else None,
                               gaps=seed % 3 == 1, nonwear=seed % 3 == 2)
        a = analyze_stream(
            SampleStream.from_arrays(night.t, night.xyz, night.info), AnalysisOptions(placement=placement)
        )
        ev = a.bursts.events
        transient = ev["spread_s"] < classify.TRANSIENT_SPREAD_S
        truth_on = np.array([e["onset_s"] for e in night.truth["events"]
                             if e["kind"] == "hypnic_jerk" and e["visible"]])
        y = np.zeros(ev.shape[0])
        d, _ = match(ev["onset_s"], truth_on, 0.25)
        y[d] = 1.0
        # The estimated onset, as in use: the model learns how far to trust the onset window
        # from the onset estimator's own errors (the sleep period does not depend on the model).
        x = classify.jerk_features(ev, transient, a.summary.sleep_onset_s, a.bursts.shapes)
        xs.append(x[transient])
        ys.append(y[transient])
        print(f"seed {seed}: {int(y[transient].sum())} jerks of {int(transient.sum())} transients",
              file=sys.stderr)
    return np.concatenate(xs), np.concatenate(ys)


def f1(pred: np.ndarray, y: np.ndarray) -> float:
    tp = np.sum(pred & (y > 0))
    return float(2 * tp / max(2 * tp + np.sum(pred & (y == 0)) + np.sum(~pred & (y > 0)), 1))


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Weighted logistic regression (classes balanced), returns weights then intercept."""
    xb = np.column_stack([x, np.ones(x.shape[0])])
    w_pos = 0.5 / max(y.mean(), 1e-9)
    w_neg = 0.5 / max(1 - y.mean(), 1e-9)
    sw = np.where(y > 0, w_pos, w_neg)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = xb @ w
        p = 1 / (1 + np.exp(-z))
        ll = -np.sum(sw * (y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))) / len(y)
        grad = xb.T @ (sw * (p - y)) / len(y)
        return ll + l2 * np.sum(w[:-1] ** 2), grad + 2 * l2 * np.r_[w[:-1], 0]

    return minimize(loss, np.zeros(xb.shape[1]), jac=True, method="L-BFGS-B").x


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 144
    x, y = collect(range(500, 500 + n))
    w = fit(x, y)
    p = 1 / (1 + np.exp(-(np.column_stack([x, np.ones(len(x))]) @ w)))
    # The model is balanced; the decision threshold is the one with the best F1 on these nights.
    best = max(np.arange(0.5, 0.99, 0.01), key=lambda th: f1(p >= th, y))
    pred = p >= best
    tp = int(np.sum(pred & (y > 0)))
    print("weights:", np.array2string(w, precision=4, separator=", "))
    print(f"threshold {best:.2f}: {tp} of {int(y.sum())} jerks, "
          f"{int(np.sum(pred & (y == 0)))} false of {int(np.sum(y == 0))}, F1 {f1(pred, y):.3f}")
