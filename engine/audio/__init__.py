"""Hearing the far end of a call: levels, a streaming sound classifier, hold / live-human
detection with evidence, and the corpus that measures them. Entry point:
:class:`engine.audio.analyzer.CallAudioAnalyzer`."""
