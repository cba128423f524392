"""Clients generated from the specs by openapi-python-client (`make regen`); never edited by hand."""
