"""What the emulator's answers look like on the wire, per API family."""
