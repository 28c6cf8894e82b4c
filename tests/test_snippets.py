"""Raw traces around chosen times: same for any chunking, exact windows."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic.detector.snippets import SnippetCollector


def collect(t, xyz, requests_at, cuts):
    """Feed chunks; a request is announced with the first chunk that reaches it + 1 s."""
    c = SnippetCollector(before_s=2.0, after_s=2.0, keep_s=10.0)
    edges = [0, *sorted(set(cuts)), len(t)]
    pending = sorted(requests_at)
    for a, b in zip(edges[:-1], edges[1:]):
        due = [r for r in pending if b > 0 and t[b - 1] >= r + 1.0]
        pending = [r for r in pending if r not in due]
        c.feed(t[a:b], xyz[a:b], np.array(due))
    c.feed(np.empty(0), np.empty((0, 3)), np.array(pending))
    c.finish()
    return c.arrays(np.array(sorted(requests_at)))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 2000), max_size=30), st.lists(st.sampled_from([5.0, 12.3, 30.0, 39.5]), unique=True))
def test_chunking_does_not_change_snippets(cuts, reqs):
    fs = 50.0
    t = np.arange(2000) / fs
    xyz = np.random.default_rng(0).normal(size=(2000, 3)).astype(np.float32)
    whole = collect(t, xyz, reqs, [])
    chunked = collect(t, xyz, reqs, cuts)
    for a, b in zip(whole, chunked):
        np.testing.assert_array_equal(a, b)


def test_window_is_exact():
    fs = 10.0
    t = np.arange(200) / fs
    xyz = np.tile(t[:, None], (1, 3)).astype(np.float32)
    on, tt, xx = collect(t, xyz, [10.0], [37, 101, 150])
    assert on.tolist() == [10.0]
    np.testing.assert_allclose(tt[0], np.arange(-20, 21) / fs, atol=1e-12)
    np.testing.assert_allclose(xx[0, :, 0], 10.0 + np.arange(-20, 21) / fs, rtol=1e-6)


def test_rekey_moves_a_snippet_and_keeps_its_samples_at_their_times():
    c = SnippetCollector(before_s=1.0, after_s=1.0)
    t = np.arange(0.0, 10.0, 0.5)
    c.feed(t, np.zeros((t.size, 3), dtype=np.float32), np.array([5.0]))
    c.finish()
    rel_before = c.done[5.0][0].copy()
    c.rekey({5.0: 5.25})
    assert 5.0 not in c.done
    np.testing.assert_allclose(c.done[5.25][0] + 5.25, rel_before + 5.0)
