"""Pure signal processing: arrays in, arrays out. No I/O, no BLE, no printing."""
