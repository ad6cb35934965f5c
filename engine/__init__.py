"""Hold Slayer's call engine: SIP, audio, detection, navigation, history. Never imports Textual."""

__version__ = "0.1.0"
