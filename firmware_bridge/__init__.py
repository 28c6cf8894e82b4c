"""Sensors: BLE transport over bleak, one codec per protocol, a simulated sensor."""
