"""Development-only tools: refitting the jerk model, probing live latency. Not in the wheel."""
