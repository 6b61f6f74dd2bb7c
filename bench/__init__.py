"""Benchmarks behind `make bench`: each module prints figures measured in one run."""
