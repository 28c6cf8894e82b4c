"""``hypnic scan``: list the BLE accelerometers in range, their protocol and battery."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypnic.firmware_bridge.scan import FoundSensor
    from hypnic.firmware_bridge.sim_device import SimWorld


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan",
        help="list the sensors in range",
        description="Listen for BLE advertisements and list the accelerometers heard: "
        "address, protocol (from the advertised services, else the name), signal strength, "
        "battery (where the advertisement carries it, or with --battery) and name. Use the "
        "address or name with 'hypnic record --sensor polar:ADDRESS'.",
    )
    p.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="seconds to listen (default 5)"
    )
    p.add_argument(
        "--battery", action="store_true",
        help="connect to each sensor hypnic can record to read its battery (slower)",
    )  # fmt: skip
    p.add_argument("--all", action="store_true", help="list every BLE device, not only sensors")
    p.add_argument(
        "--sim", action="store_true",
        help="scan the simulated sensors instead of the radio (no adapter needed)",
    )  # fmt: skip
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from hypnic.extras import require

    require("ble", "scan")
    import asyncio
    import math

    from hypnic.recordings.errors import InputError

    if not (math.isfinite(args.timeout) and args.timeout > 0):
        raise InputError("--timeout", f"must be a positive number of seconds, got {args.timeout:g}")
    found = asyncio.run(_scan(args))
    from hypnic.firmware_bridge.scan import format_table

    if not found:
        print("no sensors heard" + ("" if args.all else " (--all lists every BLE device)"))
        return 0
    for line in format_table(found):
        print(line)
    return 0


async def _scan(args: argparse.Namespace) -> list[FoundSensor]:
    from hypnic.firmware_bridge.scan import check_adapter, scan
    from hypnic.firmware_bridge.transport import SensorError
    from hypnic.recordings.errors import InputError

    scanner_kwargs: dict[str, object] = {}
    client_kwargs: dict[str, object] = {}
    if args.sim:
        from hypnic.firmware_bridge.sim_backend import SimBleakClient, SimBleakScanner

        world = _sim_world()
        scanner_kwargs = {"backend": SimBleakScanner, "world": world}
        client_kwargs = {"backend": SimBleakClient, "world": world}
    try:
        if not args.sim:
            check_adapter()
        return await scan(
            args.timeout if not args.sim else min(args.timeout, 0.1),
            everything=args.all,
            read_batteries=args.battery,
            scanner_kwargs=scanner_kwargs,
            client_kwargs=client_kwargs,
        )
    except SensorError as exc:
        raise InputError("bluetooth", str(exc)) from None


def _sim_world() -> SimWorld:
    """One simulated sensor of each model (Verity Sense, H10, MetaWear)."""
    from datetime import datetime, timezone

    from hypnic.firmware_bridge.clock import VirtualClock
    from hypnic.firmware_bridge.sim_device import MODELS, SimConfig, SimWorld

    world = SimWorld(VirtualClock(datetime.now(timezone.utc)))
    for i, model in enumerate(MODELS):
        world.add(SimConfig(model=model, battery_pct=90 - 7 * i))
    return world
