"""Hold Slayer's terminal UI (Textual). It drives the engine only through commands and
the event bus."""
