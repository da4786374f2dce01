"""Frame classifier: genres from stream frames, trained and run in batch with Keras 3.

`python -m classifier train | evaluate | label` (see `--help`). Model and training code use
Keras' own API (no `tf.*`), so they run on the TensorFlow, JAX or PyTorch backend; only the
TFLite export needs TensorFlow. Importing this package imports no framework: the heavy
imports live in the modules that need them.
"""

import os

# TensorFlow's C++ start-up chatter; set before any module imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
