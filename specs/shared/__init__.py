"""The parts of the provider specs that each API family shares (`$ref`-ed, bundled in)."""
