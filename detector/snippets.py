"""Raw traces around chosen moments, collected while the samples stream past.

The report shows the raw 3-axis trace around each hypnic jerk, but a streamed recording is never
in memory as a whole. :class:`SnippetCollector` keeps the last few seconds of samples and, when
asked for a moment (a burst that has just closed), cuts out ``[t - before, t + after]`` from that
tail and from the chunks that follow. Chunking does not change what is collected.
"""

from __future__ import annotations

import numpy as np


class SnippetCollector:
    """Collect ``[t - before_s, t + after_s]`` of raw samples around requested times.

    Parameters
    ----------
    before_s, after_s : float
        Window around each requested time.
    keep_s : float
        How far back the tail reaches; a request older than this gets a shortened window.
    """

    def __init__(self, before_s: float = 3.0, after_s: float = 3.0, keep_s: float = 15.0) -> None:
        self.before_s = before_s
        self.after_s = after_s
        self.keep_s = max(keep_s, before_s)
        self._tail_t = np.empty(0)
        self._tail_xyz = np.empty((0, 3), dtype=np.float32)
        self._pending: list[tuple[float, list[np.ndarray], list[np.ndarray]]] = []
        self.done: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def feed(self, t: np.ndarray, xyz: np.ndarray, requests: np.ndarray) -> None:
        """Add a chunk of samples and the times asked for since the previous chunk."""
        t = np.asarray(t, dtype=np.float64)
        xyz = np.asarray(xyz, dtype=np.float32)
        # Times are sorted: windows are found by binary search, never by masks over a chunk.
        for req in np.asarray(requests, dtype=np.float64):
            i = np.searchsorted(self._tail_t, req - self.before_s, side="left")
            self._pending.append((float(req), [self._tail_t[i:]], [self._tail_xyz[i:]]))
        still = []
        for req, ts, xs in self._pending:
            i = np.searchsorted(t, req - self.before_s, side="left")
            j = np.searchsorted(t, req + self.after_s, side="right")
            ts.append(t[i:j])
            xs.append(xyz[i:j])
            if t.size and t[-1] >= req + self.after_s:
                self._close(req, ts, xs)
            else:
                still.append((req, ts, xs))
        self._pending = still
        if t.size:
            # only the last keep_s of this chunk can reach back into the tail
            k = np.searchsorted(t, t[-1] - self.keep_s, side="left")
            all_t = np.concatenate([self._tail_t, t[k:]])
            all_x = np.concatenate([self._tail_xyz, xyz[k:]])
            i = np.searchsorted(all_t, all_t[-1] - self.keep_s, side="left")
            self._tail_t, self._tail_xyz = all_t[i:], all_x[i:]

    def finish(self) -> None:
        """Close the windows still waiting for samples (the recording ended)."""
        for req, ts, xs in self._pending:
            self._close(req, ts, xs)
        self._pending = []

    def _close(self, req: float, ts: list[np.ndarray], xs: list[np.ndarray]) -> None:
        t = np.concatenate(ts)
        x = np.concatenate(xs)
        keep = (t >= req - self.before_s) & (t <= req + self.after_s)
        self.done[req] = (t[keep] - req, x[keep])

    def rekey(self, moves: dict[float, float]) -> None:
        """Move collected snippets to new times (``old -> new``); their time axes follow."""
        for old, new in moves.items():
            if old in self.done and new != old:
                t, x = self.done.pop(old)
                self.done[new] = (t + (old - new), x)

    def arrays(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stack the snippets of ``times`` (NaN padded): onset (k,), t (k, m), xyz (k, m, 3)."""
        got = [(float(x), self.done[float(x)]) for x in times if float(x) in self.done]
        m = max((len(s[1][0]) for s in got), default=0)
        on = np.array([g[0] for g in got], dtype=np.float64)
        tt = np.full((len(got), m), np.nan)
        xx = np.full((len(got), m, 3), np.nan, dtype=np.float32)
        for i, (_, (ts, xs)) in enumerate(got):
            tt[i, : ts.size] = ts
            xx[i, : ts.size] = xs
        return on, tt, xx
