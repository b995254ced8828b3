"""The length budget the test provider runs with, shared by its fixture and its tests."""

FRAME_RATE = 25
# Most requests stop at this budget; `max_text` texts could go on for two minutes.
SECONDS_PER_CHAR = 0.1
MAX_AUDIO_S = 120
