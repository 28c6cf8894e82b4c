"""Synthetic nights with ground truth, accuracy scoring and speed benchmarks."""
