"""What every fuzz test here shares: byte mutations, random JSON, the reader oracle, a hang guard.

The fuzz tests (``tests/test_fuzz_*.py``) feed readers arbitrary and mutated input and accept
exactly two outcomes: samples that keep the :class:`~recordings.samples.SampleChunk` promises
(strictly increasing finite ``t``, finite float32 ``xyz`` of shape (n, 3), well-formed gaps), or
one :class:`~hypnic.recordings.errors.InputError` whose message is one line naming the file. Anything else
(another exception, a hang, a huge allocation) fails the test.

Each target runs twice: a quick run in the normal suite (:data:`QUICK` examples) and a long one
behind the ``fuzz`` marker (:data:`LONG` examples; ``pytest -m fuzz``; also marked ``slow``, so
``make test`` leaves it out). The tests below check the helpers themselves.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypnic.recordings.errors import InputError
from hypnic.recordings.samples import SampleStream

#: Examples per target in the normal suite, and behind ``-m fuzz``.
QUICK = 40
LONG = 2000
#: Seconds one example may take before it counts as a hang (generous: CI shares two cores).
HANG_S = 20.0
#: Chunks read from one stream at most: a reader of a small file that keeps yielding is a hang.
MAX_CHUNKS = 10_000


class Hang(AssertionError):
    """An example ran longer than :data:`HANG_S`."""


@contextlib.contextmanager
def time_limit(seconds: float = HANG_S) -> Iterator[None]:
    """Fail with :class:`Hang` when the body runs longer than ``seconds`` (main thread only).

    A loop in Python is interrupted; a stall inside C code is caught by the subprocess test
    (tests/test_fuzz_subprocess.py), which has a wall-clock timeout.
    """

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no result after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fuzz_pair(
    strategies: dict[str, st.SearchStrategy[Any]],
    check: Callable[..., None],
    quick: int = QUICK,
    long: int = LONG,
) -> tuple[Callable[..., None], Callable[..., None]]:
    """The quick and the long (``fuzz``-marked) hypothesis test of one property."""

    def make(n: int) -> Callable[..., None]:
        def test(**kwargs: Any) -> None:
            with time_limit():
                check(**kwargs)

        test.__name__ = check.__name__
        test.__doc__ = check.__doc__
        return settings(
            max_examples=n,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )(given(**strategies)(test))

    # Marked slow too, so that ``-m "not slow"`` (make test) leaves the long runs out.
    return make(quick), pytest.mark.slow(pytest.mark.fuzz(make(long)))


# ---------------------------------------------------------------------------------- bytes

KINDS = ("flip", "truncate", "overwrite", "insert", "delete", "append", "random", "zero_run")


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, max_ops: int = 3) -> bytes:
    """``seed`` changed by 1 to ``max_ops`` random edits (or replaced by random bytes)."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        data = bytearray(apply(bytes(data), draw(edits(len(data)))))
    return bytes(data)


@st.composite
def edits(draw: st.DrawFn, n: int) -> tuple[str, int, int, bytes]:
    """One edit ``(kind, at, length, payload)`` of a buffer of ``n`` bytes."""
    kind = draw(st.sampled_from(KINDS))
    at = draw(st.integers(0, max(n - 1, 0)))
    length = draw(st.integers(1, 64))
    payload = (
        draw(st.binary(min_size=1, max_size=64))
        if kind != "random"
        else draw(st.binary(max_size=2 * n + 16))
    )
    return kind, at, length, payload


def apply(data: bytes, edit: tuple[str, int, int, bytes]) -> bytes:
    """Apply one edit from :func:`edits` to ``data``."""
    kind, at, length, payload = edit
    if kind == "random":
        return payload
    if kind == "append":
        return data + payload
    if kind == "insert":
        return data[:at] + payload + data[at:]
    if not data:
        return payload
    at = min(at, len(data) - 1)
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ (payload[0] or 1)]) + data[at + 1 :]
    if kind == "truncate":
        return data[:at]
    if kind == "delete":
        return data[:at] + data[at + length :]
    if kind == "zero_run":  # a power cut leaves zeros where blocks were allocated
        return data[:at] + bytes(min(length * 16, len(data) - at)) + data[at + length * 16 :]
    payload = payload[: len(data) - at]  # overwrite, in place
    return data[:at] + payload + data[at + len(payload) :]


def ascii_fields(width: int) -> st.SearchStrategy[bytes]:
    """Text for a fixed-width ASCII header field: numbers at the edges, words, junk bytes."""
    numbers = st.sampled_from(
        [
            "0",
            "-1",
            "1",
            "-0",
            "+1",
            "0.5",
            "1e3",
            "nan",
            "inf",
            "99999999",
            "-99999999",
            "4096",
            "65535",
            "-32768",
            "32767",
            ".",
            "1.",
            ".1",
            " 1",
            "1 2",
            "",
        ]
    )
    texts = st.one_of(
        numbers.map(str.encode),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=width).map(
            str.encode
        ),
        st.binary(max_size=width),
    )
    return texts.map(lambda b: b[:width].ljust(width, b" "))


# ----------------------------------------------------------------------------------- JSON

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)


def _json_containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


json_values = st.recursive(json_scalars, _json_containers, max_leaves=12)


# --------------------------------------------------------------------------------- oracle


def one_line_naming(err: InputError, *names: object) -> None:
    """An InputError is one line and names one of ``names`` (a file or an option)."""
    text = str(err)
    assert "\n" not in text and "\r" not in text, text
    assert any(str(n) in text for n in names), (text, names)


def drain(stream: SampleStream, max_chunks: int = MAX_CHUNKS) -> tuple[np.ndarray, np.ndarray]:
    """Read a whole stream, checking every chunk; return all ``t`` and ``xyz``."""
    ts, xs = [], []
    last = -np.inf
    for k, chunk in enumerate(stream):
        assert k < max_chunks, "a reader of a small file keeps yielding chunks"
        t, xyz = chunk.t, chunk.xyz
        assert t.dtype == np.float64 and xyz.dtype == np.float32
        assert t.ndim == 1 and xyz.shape == (t.shape[0], 3)
        assert np.isfinite(t).all() and np.isfinite(xyz).all()
        if t.shape[0]:
            assert t[0] > last and bool(np.all(np.diff(t) > 0)), "t does not increase"
            last = float(t[-1])
        ts.append(t)
        xs.append(xyz)
    gaps = stream.gaps
    assert isinstance(gaps, list)
    for gap in gaps:
        a, b = (float(v) for v in gap)
        assert np.isfinite(a) and np.isfinite(b) and a < b, gap
    if not ts:
        return np.zeros(0), np.zeros((0, 3), np.float32)
    return np.concatenate(ts), np.concatenate(xs)


def read_or_refuse(
    open_: Callable[[], SampleStream], *names: object
) -> tuple[np.ndarray, np.ndarray] | InputError:
    """Open and read a stream: its samples, or the InputError (checked to be one line)."""
    try:
        return drain(open_())
    except InputError as err:
        one_line_naming(err, *names)
        return err


# ---------------------------------------------------------------------- the helpers' tests


@settings(max_examples=60, deadline=None)
@given(seed=st.binary(max_size=200), edit=st.data())
def test_edits_stay_within_their_kind(seed: bytes, edit: st.DataObject) -> None:
    kind, at, length, payload = e = edit.draw(edits(len(seed)))
    out = apply(seed, e)
    if kind == "append":
        assert out.startswith(seed) and len(out) > len(seed)
    elif kind in ("truncate", "delete") and seed:
        assert len(out) < len(seed) or (kind == "delete" and at >= len(seed))
    elif kind in ("flip", "zero_run", "overwrite") and seed:
        assert len(out) == len(seed)
    if kind == "flip" and seed:
        assert sum(a != b for a, b in zip(seed, out, strict=True)) == 1


def test_time_limit_stops_a_loop() -> None:
    with pytest.raises(Hang), time_limit(0.05):
        while True:
            pass


def test_drain_rejects_what_a_reader_must_never_yield() -> None:
    from hypnic.recordings.samples import StreamInfo

    info = StreamInfo("x", 10.0)
    good = SampleStream.from_arrays(np.arange(5) / 10, np.zeros((5, 3)), info, chunk_size=2)
    assert drain(good)[0].shape == (5,)
    for t in (np.array([0, 0.1, 0.1]), np.array([0, np.inf, 1e9]), np.array([0.2, 0.1, 0.3])):
        with pytest.raises(AssertionError):
            drain(SampleStream.from_arrays(t, np.zeros((3, 3)), info))
    with pytest.raises(AssertionError):
        drain(SampleStream.from_arrays(np.arange(3.0), np.full((3, 3), np.nan), info))
