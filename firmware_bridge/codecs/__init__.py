"""Sensor codecs: pure bytes <-> samples for each BLE accelerometer protocol.

No BLE and no asyncio here: every module turns notification bytes into samples (decoders)
and samples back into the same bytes (encoders, for the simulated sensor), and builds and
parses the protocol's commands on both sides.

=====================  ==========================================================
module                 protocol
=====================  ==========================================================
``polar_pmd``          Polar PMD data frames (Verity Sense, H10, OH1): ACC raw and
                       delta-compressed frames, per-sample time stamps
``polar_pmd_delta``    PMD delta compression (bit packing)
``polar_pmd_control``  PMD control point: requests, responses, settings, device side
``metawear``           MbientLab MetaWear/MetaMotion (BMI160, BMI270)
``movesense``          Movesense with the gatt_sensordata_app firmware
``thingy52``           Nordic Thingy:52 motion service
``microbit``           BBC micro:bit accelerometer service
``witmotion``          WitMotion BLE 5.0 IMUs (WT901BLECL family)
``heart_rate``         Bluetooth SIG Heart Rate Measurement (0x2A37)
=====================  ==========================================================

Every acceleration decoder is ``decode_acc(data, **settings) -> AccFrame`` and raises
:class:`CodecError` (a ``ValueError``) with a one-line message on malformed bytes.
"""

from hypnic.firmware_bridge.codecs.acc_frame import AccFrame
from hypnic.firmware_bridge.codecs.errors import CodecError

__all__ = ["AccFrame", "CodecError"]
