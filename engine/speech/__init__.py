"""Speech in and out of a call: speech-to-text backends (:mod:`engine.speech.stt`) and
text-to-speech backends (:mod:`engine.speech.tts`), each offline by default."""
