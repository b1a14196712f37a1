"""Exports of catalog metadata: JSON, the static site and the ROAPI config."""
