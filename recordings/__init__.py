"""Session files: crash-safe writer, readers (own format, CSV, device formats), replay, export."""
