"""A bleak backend for the simulated sensors.

``BleakClient(address, backend=SimBleakClient, world=world)`` reaches a simulated sensor.

bleak (>= 2.0) takes a custom client backend, a :class:`bleak.backends.client.BaseBleakClient`
subclass (BLE.md §4.2, checked against bleak 3.1). The simulated sensors of a
:class:`~firmware_bridge.sim_device.SimWorld` are reached through it with the real
:class:`bleak.BleakClient` API -- UUID resolution, callback wrapping and all -- without an
adapter, BlueZ or D-Bus. :class:`SimBleakScanner` does the same for
:class:`bleak.BleakScanner` (``hypnic scan --sim``).

The world is handed over as the ``world=`` keyword, which ``BleakClient`` and ``BleakScanner``
pass on to their backend untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError

from hypnic.firmware_bridge.sim_device import SimLink, SimSensor, SimWorld

#: RSSI the simulated sensors advertise with (dBm): a sensor on the bedside table.
SIM_RSSI = -58
#: Real seconds between advertisements (BLE sensors advertise every 20 ms to 10 s; 100 ms is
#: a common default).
ADVERTISING_INTERVAL_S = 0.1


def _collection(device: SimSensor) -> BleakGATTServiceCollection:
    """The device's GATT layout as bleak's service collection (handles numbered in order)."""
    collection = BleakGATTServiceCollection()
    handle = 1
    for service_uuid, chars in device.services:
        service = BleakGATTService(None, handle, service_uuid)
        collection.add_service(service)
        handle += 1
        for char_uuid, properties in chars:
            char = BleakGATTCharacteristic(
                None,
                handle,
                char_uuid,
                list(properties),  # type: ignore[arg-type]
                lambda: device.model.mtu - 3,
                service,
            )
            collection.add_characteristic(char)  # also adds it to its service
            handle += 2  # value handle + its client configuration descriptor
    return collection


class SimBleakClient(BaseBleakClient, SimLink):
    """bleak client backend talking to a :class:`~firmware_bridge.sim_device.SimSensor`.

    Parameters
    ----------
    address_or_ble_device : str or BLEDevice
    world : SimWorld
        Where the simulated sensors are (keyword, passed through by ``BleakClient``).
    **kwargs
        What ``BleakClient`` passes to every backend (disconnected_callback, timeout, ...).
    """

    def __init__(
        self, address_or_ble_device: BLEDevice | str, *, world: SimWorld, **kwargs: Any
    ) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.pop("disconnected_callback", None),
            timeout=kwargs.pop("timeout", 10.0),
        )
        self._world = world
        self._device: SimSensor | None = None

    @property
    def name(self) -> str:
        device = self._world.device(self.address)
        return device.name if device is not None else self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return self._device.model.mtu if self._device is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._device is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        device = self._world.device(self.address)
        if device is None:
            raise BleakDeviceNotFoundError(self.address, f"Device {self.address} was not found")
        await device.accept(self)
        self._device = device
        self.services = _collection(device)

    async def disconnect(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            device.release(self)

    def link_lost(self) -> None:
        """The simulated device dropped the link: tell bleak's user, as a real backend does."""
        self._device = None
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Simulated sensors need no pairing."""

    async def unpair(self) -> None:
        """Simulated sensors need no pairing."""

    def _connected(self) -> SimSensor:
        if self._device is None:
            raise BleakError("Not connected")
        return self._device

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(self._connected().read(characteristic.uuid))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        raise BleakError("the simulated sensors expose no descriptors")

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        self._connected().write(characteristic.uuid, bytes(data))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        raise BleakError("the simulated sensors expose no descriptors")

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        self._connected().subscribe(characteristic.uuid, callback)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._connected().unsubscribe(characteristic.uuid)


class SimBleakScanner(BaseBleakScanner):
    """bleak scanner backend that "hears" every sensor of a :class:`SimWorld`.

    Parameters
    ----------
    detection_callback, service_uuids, scanning_mode
        As bleak passes them to every scanner backend.
    world : SimWorld
        Keyword, passed through by ``BleakScanner``.
    """

    def __init__(
        self,
        detection_callback: Callable[[BLEDevice, AdvertisementData], None] | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        world: SimWorld,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._world = world
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._advertise()
        self._task = asyncio.get_running_loop().create_task(self._keep_advertising())

    async def _keep_advertising(self) -> None:
        # Sensors advertise over and over; bleak's advertisement_data() listens only from
        # the moment it is called.
        while True:
            await asyncio.sleep(ADVERTISING_INTERVAL_S)
            self._advertise()

    def _advertise(self) -> None:
        for device in self._world.devices.values():
            adv = AdvertisementData(
                local_name=device.name,
                manufacturer_data={},
                service_data={},
                service_uuids=device.advertised_services,
                tx_power=None,
                rssi=SIM_RSSI,
                platform_data=(),
            )
            if not self.is_allowed_uuid(adv.service_uuids):
                continue
            ble = self.create_or_update_device(
                device.address, device.address, device.name, None, adv
            )
            self.call_detection_callbacks(ble, adv)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
