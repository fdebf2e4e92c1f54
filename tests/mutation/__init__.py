"""Mutation testing for the pipeline's core (not collected by pytest: no test_ files here)."""
