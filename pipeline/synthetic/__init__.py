"""Deterministic generators of realistic, dirty input data (customer tables and transaction logs) for the demo, tests and benchmarks."""
