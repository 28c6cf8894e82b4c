"""The record use case (``hypnic record``): a night, live, from one or two sensors.

Streams one or two sensors (real BLE, or the simulated one of
:mod:`firmware_bridge.sim_device`, playing a synthetic night of :mod:`hypnic.benchmarks`,
:class:`SyntheticNight`) through :mod:`firmware_bridge.session`, writes each into a
crash-safe recording folder (:class:`recordings.recording.RecordingWriter`), runs the
streaming burst detector on the samples as they arrive and prints each burst when it closes
(provisional: labels need the sleep onset and look-ahead), with a one-line live status. At
the end (``--duration``, Ctrl-C, SIGTERM, or the sensors gone for good) the night is
finalised: the writer is closed, the recording is read back and analysed exactly as
``hypnic detect`` would analyse it, and ``events.csv``/``summary.json`` are written into
``analysis/`` inside the recording folder.

Layout of ``REC``: with one sensor, ``REC`` is the recording folder (``REC/signal.edf`` ...)
and ``REC/analysis`` its analysis. With two, each sensor is a recording folder of its own,
``REC/<label>`` (label = its ``label=`` option, else its placement), with
``REC/<label>/analysis``. Their clocks are aligned through the one host clock: each
recording's ``start_utc`` is the host time of its first sample, and ``clock`` events in
``events.jsonl`` pair host and device time once a minute (for drift).

``events.jsonl`` of a live recording holds the provisional bursts (``kind: burst``, also EDF+
annotations) and the session's notes: ``link_lost``, ``reconnected``,
``device_stopped_stream``, ``stream_restarted``, ``device_clock_jump``, ``queue_overflow``
and ``clock``, each with ``t_s`` (seconds from the first sample).

This module imports bleak (through :mod:`firmware_bridge`): the command checks the ``ble``
extra before importing it.
"""

from __future__ import annotations

import asyncio
import functools
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from hypnic.detector.bursts import StreamingDetector
from hypnic.detector.options import AnalysisOptions
from hypnic.detector.vocabulary import UNKNOWN
from hypnic.firmware_bridge import scan
from hypnic.firmware_bridge.clock import Clock, RealClock, ScaledClock, VirtualClock
from hypnic.firmware_bridge.session import SampleBatch, SensorSession
from hypnic.firmware_bridge.sim_device import SimConfig, SimWorld
from hypnic.firmware_bridge.spec import SensorSpec, build_session, parse_sensor, sim_config
from hypnic.firmware_bridge.transport import SensorError
from hypnic.pipeline import analyze_stream, write_outputs
from hypnic.recordings.errors import InputError, printable
from hypnic.recordings.recording import RecordingWriter, open_recording

#: Warning printed before recording from a real sensor (a suspended host drops the link).
SUSPEND_WARNING = (
    "keep this computer awake until the recording ends (no suspend or sleep, e.g. run it "
    "under systemd-inhibit): a suspended host loses the Bluetooth link and the samples"
)


# ------------------------------------------------------------------------ simulated nights


@functools.lru_cache(maxsize=64)
def night_start_utc(seed: int) -> datetime:
    """Absolute time of synthetic night ``seed``'s t = 0 (its evening, UTC).

    The generator draws it from the seed alone, so a few seconds of the night tell it.
    """
    from hypnic.benchmarks.synth import simulate_night  # here: see SyntheticNight.render

    probe = simulate_night(int(seed), 12.5, 0.01, "wrist")
    return datetime.fromisoformat(probe.info.start_utc).astimezone(timezone.utc)


@dataclass(frozen=True)
class SyntheticNight:
    """A synthetic night (:func:`hypnic.benchmarks.synth.simulate_night`) as a simulated sensor
    plays it (:class:`~firmware_bridge.sim_device.SimNight`): one seed is one night, seen as a
    sensor at ``placement`` sees it."""

    seed: int
    hours: float
    placement: str

    @property
    def start_utc(self) -> datetime:
        """Absolute time of the night's t = 0."""
        return night_start_utc(self.seed)

    def render(self, fs: float) -> np.ndarray:
        """The night's acceleration (g) sampled at ``fs`` Hz."""
        # Imported here, not at the top: hypnic.benchmarks.synth brings scipy.signal, 0.7 s
        # of start-up (measured with -X importtime) that a real sensor's recording never uses.
        from hypnic.benchmarks.synth import simulate_night

        return simulate_night(self.seed, fs, self.hours, self.placement).xyz


def synthetic_night(config: SimConfig) -> SyntheticNight:
    """The night a simulated sensor configured by ``config`` plays (a
    :class:`~firmware_bridge.sim_device.SimWorld`'s ``nights``)."""
    return SyntheticNight(config.seed, config.hours, config.placement)


# ------------------------------------------------------------------------------- the plan


@dataclass
class SensorPlan:
    """One sensor to record: its spec, label, placement and folder."""

    spec: SensorSpec
    label: str
    placement: str
    folder: Path


@dataclass
class RecordPlan:
    """Everything ``hypnic record`` was asked to do, checked before any sensor is touched."""

    sensors: list[SensorPlan]
    out: Path
    duration_s: float | None
    speed: float  # math.inf = as fast as possible (simulated sensors only)
    timeout_s: float
    queue_size: int
    #: The analysis at the end (its placement, where given, is also every sensor's placement
    #: where its spec gives none).
    options: AnalysisOptions = field(default_factory=AnalysisOptions)
    report: bool = True

    @property
    def simulated(self) -> bool:
        return self.sensors[0].spec.kind == "sim"


def plan_recording(
    sensors: Sequence[str],
    out: str | os.PathLike[str],
    options: AnalysisOptions | None = None,
    *,
    duration_s: float | None = None,
    speed: str | float = "max",
    timeout_s: float = 20.0,
    queue_size: int = 1024,
    report: bool = True,
) -> RecordPlan:
    """Check the options and the output folder; one-line :class:`InputError` on any problem.

    Parameters
    ----------
    sensors : sequence of str
        One or two ``--sensor`` specifications (:mod:`firmware_bridge.spec`).
    out : path-like
        The recording folder to create (must not exist, or be empty).
    options : detector.options.AnalysisOptions, optional
        As for ``hypnic detect``, for the analysis at the end; its ``placement`` is also every
        sensor's placement where its spec does not give one. The defaults where None.
    duration_s : float, optional
        Stop after this many seconds (default: at Ctrl-C or SIGTERM; simulated sensors: at the
        end of their night).
    speed : str or float
        Simulated sensors: clock speed as a factor of real time, or ``"max"``.
    timeout_s : float
        How long to look for a real sensor.
    queue_size : int
        Notifications held per sensor before new ones are dropped.
    report : bool
        Write the HTML report of each analysis.
    """
    options = options or AnalysisOptions()
    specs = []
    for text in sensors:
        try:
            specs.append(parse_sensor(text))
        except ValueError as exc:
            raise InputError("--sensor", f"{text}: {exc}") from None
    if len(specs) > 2:
        raise InputError("--sensor", f"at most two sensors (wrist and ankle), got {len(specs)}")
    kinds = {s.kind == "sim" for s in specs}
    if len(kinds) > 1:
        raise InputError("--sensor", "simulated and real sensors cannot be recorded together")
    if duration_s is not None and not (math.isfinite(duration_s) and duration_s > 0):
        raise InputError("--duration", f"must be a positive number of seconds, got {duration_s:g}")
    if not (math.isfinite(timeout_s) and timeout_s > 0):
        raise InputError("--timeout", f"must be a positive number of seconds, got {timeout_s:g}")
    if queue_size < 1:
        raise InputError("--queue", f"must be at least 1, got {queue_size}")
    onset = options.sleep_onset_s
    if onset is not None and not onset >= 0:
        raise InputError("--sleep-onset", f"must be a time in seconds >= 0, got {onset}")
    factor = _speed(speed)
    duration = duration_s
    out = Path(out)
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        raise InputError(
            out, "already exists and is not an empty folder (a recording is never overwritten)"
        )
    planned = []
    for i, spec in enumerate(specs):
        worn = spec.placement or options.placement or ("wrist" if spec.kind == "sim" else UNKNOWN)
        label = spec.options.get("label") or (worn if worn != UNKNOWN else f"sensor{i + 1}")
        planned.append(SensorPlan(spec, label, worn, out if len(specs) == 1 else out / label))
    labels = [s.label for s in planned]
    if len(set(labels)) != len(labels):
        raise InputError(
            "--sensor", f"two sensors named {labels[0]!r}: give each its own placement= or label="
        )
    if specs[0].kind == "sim":
        nights = set()
        for s in planned:
            try:
                cfg = sim_config(s.spec, s.placement)
            except ValueError as exc:
                raise InputError("--sensor", f"{s.spec.text}: {exc}") from None
            nights.add((cfg.seed, cfg.hours, cfg.start_s))
        if len(nights) > 1:
            raise InputError(
                "--sensor",
                "simulated sensors of one recording share one night (same seed, hours and start)",
            )
        if duration is None:  # the rest of the simulated night
            _, hours, start = nights.pop()
            duration = hours * 3600.0 - start
    return RecordPlan(
        planned, out, duration, factor, timeout_s, queue_size, options=options, report=report
    )


def _speed(text: str | float) -> float:
    if str(text).lower() == "max":
        return math.inf
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InputError("--speed", f"must be a positive factor of real time or 'max', got {text}")
    return value


# ------------------------------------------------------------------------------ the printer


class LivePrinter:
    """Provisional bursts on stdout; the status line on stderr (redrawn in place on a TTY).

    Parameters
    ----------
    out, err : text streams
    tty : bool, optional
        Redraw the status line with a carriage return (default: whether ``err`` is a TTY).
    status_every_s : float, optional
        Wall seconds between status lines (default 0.5 on a TTY, 60 otherwise).
    """

    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        *,
        tty: bool | None = None,
        status_every_s: float | None = None,
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.tty = self.err.isatty() if tty is None else tty
        self.status_every_s = status_every_s or (0.5 if self.tty else 60.0)
        self._shown = ""

    def burst(self, text: str) -> None:
        """Print one provisional burst (its own line, immediately)."""
        self._clear()
        print(text, file=self.out, flush=True)
        self._redraw()

    def message(self, text: str) -> None:
        """A line for the user on stderr (``hypnic: ...``)."""
        self._clear()
        print(f"hypnic: {printable(text)}", file=self.err, flush=True)
        self._redraw()

    def status(self, text: str) -> None:
        """Show the status line (in place on a TTY, else as a plain line)."""
        if self.tty:
            self._shown = text
            self.err.write("\r\x1b[K" + text)
            self.err.flush()
        else:
            print(text, file=self.err, flush=True)

    def close(self) -> None:
        """End the status line (a TTY keeps its last state on screen)."""
        if self.tty and self._shown:
            self.err.write("\n")
            self.err.flush()
            self._shown = ""

    def _clear(self) -> None:
        if self.tty and self._shown:
            self.err.write("\r\x1b[K")
            self.err.flush()

    def _redraw(self) -> None:
        if self.tty and self._shown:
            self.err.write(self._shown)
            self.err.flush()


# ---------------------------------------------------------------------- one live recording


@dataclass
class BurstSeen:
    """A provisional burst and when it was printed (for the latency benchmark)."""

    label: str
    onset_s: float
    offset_s: float
    peak_g: float
    arrival: float  # clock time the batch that closed it arrived
    arrival_perf: float
    printed_perf: float
    closed_at_s: float  # recording time of the last sample of that batch


class LiveRecording:
    """One sensor's sink: recording folder, streaming detector, printed bursts.

    The writer is created with the first samples (their host time is the recording's start),
    so a session that never streams leaves nothing on disk.
    """

    def __init__(
        self,
        plan: SensorPlan,
        session: SensorSession,
        printer: LivePrinter,
        *,
        utc_offset_s: float,
        meta: dict[str, Any],
        on_burst: Callable[[BurstSeen], None] | None = None,
    ) -> None:
        assert session.settings is not None
        self.plan = plan
        self.session = session
        self.printer = printer
        self.fs = session.settings.fs
        self.detector = StreamingDetector(self.fs)
        self.utc_offset_s = utc_offset_s
        self.meta = meta
        self.on_burst = on_burst
        self.writer: Any = None
        self.start_utc: datetime | None = None
        self.bursts = 0

    def on_batch(self, batch: SampleBatch) -> None:
        """Detect, print, then write (printing first keeps the live latency short)."""
        if self.writer is None:
            if not len(batch.t):
                return
            self._open(batch.start_utc or datetime.now(timezone.utc))
        if len(batch.t):
            self._bursts(self.detector.process(batch.t, batch.xyz).events, batch)
            self.writer.append(batch.t, batch.xyz)
        for note in batch.notes:
            self.writer.add_event(note)

    def _open(self, start_utc: datetime) -> None:
        settings = self.session.settings
        assert settings is not None
        self.start_utc = start_utc
        self.plan.folder.parent.mkdir(parents=True, exist_ok=True)
        self.writer = RecordingWriter(
            self.plan.folder,
            fs=settings.fs,
            range_g=settings.range_g,
            start_utc=start_utc,
            sensor=self.session.device_name or self.plan.spec.text,
            firmware=self.session.device_info.get("firmware"),
            placement=self.plan.placement,
            utc_offset_s=self.utc_offset_s,
            meta=self.meta,
        )

    def _bursts(self, events: Any, batch: SampleBatch | None) -> None:
        for ev in events:
            self.bursts += 1
            onset = float(ev["onset_s"])
            assert self.start_utc is not None
            local = self.start_utc + timedelta(seconds=onset + self.utc_offset_s)
            self.printer.burst(
                f"burst  {self.plan.label:<8} {local:%H:%M:%S}  onset {onset:10.2f} s  "
                f"duration {float(ev['duration_s']):5.2f} s  peak {float(ev['peak_g']):.3f} g"
                "  (provisional)"
            )
            printed = time.perf_counter()
            if self.on_burst is not None and batch is not None:
                self.on_burst(
                    BurstSeen(
                        self.plan.label, onset, float(ev["offset_s"]), float(ev["peak_g"]),
                        batch.arrival, batch.arrival_perf, printed, float(batch.t[-1]),
                    )
                )  # fmt: skip
            self.writer.add_event(
                {
                    "kind": "burst",
                    "provisional": True,
                    "label": "burst",
                    "onset_s": round(onset, 4),
                    "duration_s": round(float(ev["duration_s"]), 4),
                    "peak_g": round(float(ev["peak_g"]), 5),
                }
            )

    def close(self) -> None:
        """Close the last burst and the writer (the folder is then complete)."""
        if self.writer is None:
            return
        try:
            self._bursts(self.detector.finish().events, None)
        except InputError:
            pass  # the writer failed earlier (a full disk): that was reported once already
        self.writer.close()

    def status(self) -> str:
        """This sensor's part of the status line."""
        st = self.session.stats
        t = int(st.last_t)
        battery = "-" if st.battery is None else f"{st.battery}%"
        gaps = f"{st.gaps} gaps ({st.gap_s:.1f} s)" if st.gaps else "0 gaps"
        return (
            f"{self.plan.label} {t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d} | "
            f"{st.samples:,} samples {st.rate(self.session.clock.now()):.1f} Hz | {gaps} | "
            f"{st.drops} drops | battery {battery} | {self.bursts} bursts | {st.state}"
        )


# ------------------------------------------------------------------------------- recording


@dataclass
class LiveRecorder:
    """Runs a :class:`RecordPlan`: set-up, streaming, stop; returns the recordings.

    ``clock`` and ``world`` may be given (tests, the latency benchmark); otherwise they are
    made from the plan: the host clock for real sensors, a virtual or scaled clock and a new
    :class:`~firmware_bridge.sim_device.SimWorld` whose sensors play :func:`synthetic_night`
    for simulated ones.
    """

    plan: RecordPlan
    printer: LivePrinter = field(default_factory=LivePrinter)
    clock: Clock | None = None
    world: SimWorld | None = None
    on_burst: Callable[[BurstSeen], None] | None = None
    #: Passed to ``BleakScanner`` / ``BleakClient`` for real sensors (tests: the simulated
    #: backend in place of the radio).
    scanner_kwargs: dict[str, Any] = field(default_factory=dict)
    client_kwargs: dict[str, Any] = field(default_factory=dict)
    recordings: list[LiveRecording] = field(default_factory=list)
    sessions: list[SensorSession] = field(default_factory=list)
    end_reasons: dict[str, str] = field(default_factory=dict)

    def _make_clock(self) -> None:
        if not self.plan.simulated:
            self.clock = self.clock or RealClock()
            return
        if self.clock is None:
            first = self.plan.sensors[0]
            cfg = sim_config(first.spec, first.placement)
            utc0 = night_start_utc(cfg.seed) + timedelta(seconds=cfg.start_s)
            self.clock = (
                VirtualClock(utc0)
                if math.isinf(self.plan.speed)
                else ScaledClock(self.plan.speed, utc0)
            )
        self.world = self.world or SimWorld(self.clock, synthetic_night)

    async def run(self) -> list[LiveRecording]:
        """Set up every sensor, stream until stopped, close everything; the recordings made."""
        self._make_clock()
        assert self.clock is not None
        _warm_up_detector()
        if not self.plan.simulated:
            try:
                scan.check_adapter()  # looked up in its module: tests swap it there
            except SensorError as exc:
                raise InputError("bluetooth", str(exc)) from None
        try:
            for sp in self.plan.sensors:
                try:
                    session = await build_session(
                        sp.spec, label=sp.label, clock=self.clock, world=self.world,
                        placement=sp.placement, queue_size=self.plan.queue_size,
                        timeout_s=self.plan.timeout_s, scanner_kwargs=self.scanner_kwargs,
                        client_kwargs=self.client_kwargs,
                    )  # fmt: skip
                    self.sessions.append(session)
                    await session.open()
                except ValueError as exc:
                    raise InputError("--sensor", f"{sp.spec.text}: {exc}") from None
                except SensorError as exc:
                    raise InputError(sp.spec.text, str(exc)) from None
            for sp, session in zip(self.plan.sensors, self.sessions, strict=True):
                try:
                    await session.start()
                except SensorError as exc:
                    raise InputError(sp.spec.text, str(exc)) from None
            await self._stream()
        finally:
            for session in self.sessions:
                await session.close()  # STOP on every path (BLE.md §1.8)
            for rec in self.recordings:
                rec.close()
        return [r for r in self.recordings if r.writer is not None]

    async def _stream(self) -> None:
        assert self.clock is not None
        offset = 0.0 if self.plan.simulated else _local_utc_offset()
        for sp, session in zip(self.plan.sensors, self.sessions, strict=True):
            self.recordings.append(
                LiveRecording(
                    sp, session, self.printer, utc_offset_s=offset,
                    meta=self._meta(sp, session), on_burst=self.on_burst,
                )
            )  # fmt: skip
        if self.plan.simulated:
            self.printer.message(
                f"simulated sensor{'s' if len(self.sessions) > 1 else ''}: "
                + ", ".join(f"{s.label} = {s.device_name}" for s in self.sessions)
                + (
                    " (as fast as possible)"
                    if math.isinf(self.plan.speed)
                    else f" at {self.plan.speed:g}x real time"
                )
            )
        else:
            self.printer.message(SUSPEND_WARNING)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = _install_signals(loop, stop)
        timer = (
            asyncio.ensure_future(self._stop_after(self.plan.duration_s, stop))
            if self.plan.duration_s is not None
            else None
        )
        status = asyncio.ensure_future(self._status_loop())
        try:
            runs = [
                s.run(r.on_batch, stop) for s, r in zip(self.sessions, self.recordings, strict=True)
            ]
            reasons = await asyncio.gather(*runs)
            self.end_reasons = {s.label: r for s, r in zip(self.sessions, reasons, strict=True)}
            for label, reason in self.end_reasons.items():
                if reason != "stopped":
                    self.printer.message(f"{label}: {reason}")
        finally:
            for task in (timer, status):
                if task is not None:
                    task.cancel()
            for sig in signals:
                loop.remove_signal_handler(sig)
            self.printer.status(self.status_line())
            self.printer.close()

    async def _stop_after(self, seconds: float, stop: asyncio.Event) -> None:
        assert self.clock is not None
        await self.clock.sleep(seconds)
        stop.set()

    async def _status_loop(self) -> None:
        while True:
            await asyncio.sleep(self.printer.status_every_s)
            self.printer.status(self.status_line())

    def status_line(self) -> str:
        """The live status of every sensor on one line."""
        return "  ||  ".join(r.status() for r in self.recordings)

    def _meta(self, sp: SensorPlan, session: SensorSession) -> dict[str, Any]:
        assert session.settings is not None
        meta: dict[str, Any] = {
            "label": sp.label,
            "sensor_spec": sp.spec.text,
            "protocol": session.driver.protocol,
            "address": getattr(session.connector, "address", None) or sp.spec.target,
            "device_info": session.device_info,
            "stream": session.settings.details,
            "timing": "device clock" if session.driver.timing == "device" else "host clock",
            "live": True,
        }
        if sp.spec.kind == "sim":
            cfg = sim_config(sp.spec, sp.placement)
            meta["simulation"] = {
                "seed": cfg.seed, "hours": cfg.hours, "start_s": cfg.start_s,
                "night_start_utc": night_start_utc(cfg.seed).isoformat(),
                "faults": len(cfg.faults.faults), "clock_offset_s": cfg.clock_offset_s,
            }  # fmt: skip
        return meta


def _warm_up_detector() -> None:
    """Compile the detector's kernels now, not while the first notifications queue up."""
    det = StreamingDetector(50.0)
    det.process(np.arange(8) / 50.0, np.zeros((8, 3), dtype=np.float32))
    det.finish()


def _local_utc_offset() -> float:
    offset = datetime.now().astimezone().utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def _install_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> list[int]:
    """Ctrl-C and SIGTERM stop the recording cleanly; a second Ctrl-C interrupts at once."""
    installed = []

    def on_signal(sig: int) -> None:
        if stop.is_set() and sig == signal.SIGINT:
            loop.remove_signal_handler(sig)  # back to KeyboardInterrupt for the next one
            return
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / Windows
            pass
    return installed


# ------------------------------------------------------------------------------ finalising


def finalize(rec: LiveRecording, plan: RecordPlan) -> Path:
    """Analyse a finished recording as ``hypnic detect`` would; write ``<folder>/analysis``."""
    analysis = analyze_stream(open_recording(rec.plan.folder), plan.options)
    return write_outputs(analysis, rec.plan.folder / "analysis", report=plan.report)


# ---------------------------------------------------------------------------- the use case


def record_night(
    sensors: Sequence[str],
    out: str | os.PathLike[str],
    options: AnalysisOptions | None = None,
    *,
    duration_s: float | None = None,
    speed: str | float = "max",
    timeout_s: float = 20.0,
    queue_size: int = 1024,
    report: bool = True,
) -> int:
    """``hypnic record``: record until stopped, then analyse each recording.

    Parameters are those of :func:`plan_recording`. Bursts go to stdout as they are found, the
    status line and messages to stderr; the path of each analysis folder to stdout at the end.

    Returns
    -------
    int
        0, or 1 when a recording was made but its analysis failed (the recording stays).

    Raises
    ------
    InputError
        Bad options, an output folder that exists, a sensor not found or refusing, or no
        samples at all (nothing is left on disk then).
    """
    plan = plan_recording(
        sensors, out, options, duration_s=duration_s, speed=speed, timeout_s=timeout_s,
        queue_size=queue_size, report=report,
    )  # fmt: skip
    printer = LivePrinter()
    recorder = LiveRecorder(plan, printer)
    recordings = asyncio.run(recorder.run())
    if not recordings:
        raise InputError(plan.sensors[0].spec.text, "no samples arrived; nothing was recorded")
    status = 0
    for rec in recordings:
        st = rec.session.stats
        printer.message(
            f"{rec.plan.label}: {st.samples:,} samples, {st.gaps} gaps ({st.gap_s:.1f} s), "
            f"{st.drops} dropped notifications, {st.reconnects} reconnects, {rec.bursts} "
            f"bursts -> {rec.plan.folder}"
        )
        try:
            print(finalize(rec, plan))
        except InputError as exc:  # the recording stays; only its analysis is missing
            printer.message(f"warning: {rec.plan.folder}: not analysed: {exc.one_line()}")
            status = 1
    return status
