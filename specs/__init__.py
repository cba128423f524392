"""OpenAPI 3.1 specs, one per provider document, shipped as package data."""

from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parent
"""The folder holding the specs and the generator config."""
