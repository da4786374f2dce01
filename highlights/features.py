"""Features of each 10-second window of a clip, from its sound, picture and chat.

Every feature compares a window with the rest of its clip (a rise over the clip's median),
so a loud channel, a busy game or a fast chat is not a highlight by itself. A family that
a clip lacks (no audio track, silent audio, no chat counts) gets neutral values and is
named in `WindowFeatures.missing`. docs/highlights.md defines each feature.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

WINDOW_SECONDS = 10.0
AUDIO_RATE = 16_000
CHAT_LAG_SECONDS = 2  # chat answers a moment a little after it is seen
SILENCE_DBFS = -70.0
CUT_MIN_DIFFERENCE = 25.0  # mean grey-level change (0–255) of a frame that cuts
FRAMES_PER_SECOND = 32  # spectral frames: 1/32 s each

FAMILIES: dict[str, tuple[str, ...]] = {
    "audio": ("audio_loudness_rise", "audio_peak_rise", "audio_flux_rise", "audio_cheer"),
    "motion": ("motion_rise", "motion_peak_rise", "motion_cuts"),
    "chat": ("chat_rate_rise", "chat_hype_rise", "chat_caps_share"),
}
FEATURES: tuple[str, ...] = tuple(name for names in FAMILIES.values() for name in names)

# P(cheer) of each 1-second frame from its band energies (`highlights.audio_model`).
CheerScorer = Callable[[np.ndarray], np.ndarray]


@dataclass
class WindowFeatures:
    """The feature matrix of a clip's windows (rows) and which families it lacked."""

    values: np.ndarray  # windows × FEATURES
    missing: dict[str, str] = field(default_factory=dict)  # family → reason

    @property
    def windows(self) -> int:
        return int(self.values.shape[0])


def _db(power: np.ndarray | float) -> np.ndarray:
    return np.asarray(10 * np.log10(np.maximum(power, 1e-12)))


def spectrogram(audio: np.ndarray, rate: int = AUDIO_RATE) -> np.ndarray:
    """Power spectra of consecutive, non-overlapping frames of `rate` / FRAMES_PER_SECOND
    samples (1/32 s at 16 kHz): frames × bins, float32. Both the flux and the band energies
    come from it, so each clip is transformed once."""
    size = rate // FRAMES_PER_SECOND
    count = audio.size // size
    frames = audio[: count * size].reshape(count, size).astype(np.float32)
    window = np.hanning(size).astype(np.float32)
    return np.asarray(np.abs(np.fft.rfft(frames * window, axis=1)) ** 2, np.float32)


def band_energies(
    audio: np.ndarray, rate: int = AUDIO_RATE, bands: int = 16, power: np.ndarray | None = None
) -> np.ndarray:
    """Log energy (dB) in `bands` log-spaced bands from 80 Hz to 7 kHz of each whole second,
    minus the clip's median of that band: seconds × bands."""
    power = spectrogram(audio, rate) if power is None else power
    seconds = len(power) // FRAMES_PER_SECOND
    if seconds == 0:
        return np.zeros((0, bands), np.float32)
    per_second = power[: seconds * FRAMES_PER_SECOND].reshape(seconds, FRAMES_PER_SECOND, -1)
    spectrum = per_second.sum(axis=1)
    freqs = np.fft.rfftfreq(rate // FRAMES_PER_SECOND, 1 / rate)
    edges = np.geomspace(80.0, 7_000.0, bands + 1)
    bands_of = [(freqs >= lo) & (freqs < hi) for lo, hi in itertools.pairwise(edges)]
    energies = np.stack([spectrum[:, band].sum(axis=1) for band in bands_of], axis=1)
    levels = _db(energies)
    return np.asarray(levels - np.median(levels, axis=0), np.float32)


def audio_features(
    audio: np.ndarray, windows: int, cheer: CheerScorer | None, rate: int = AUDIO_RATE
) -> np.ndarray:
    """windows × 4: loudness rise, peak rise (dB over the clip's median), spectral-flux rise
    (log ratio) and the highest P(cheer) of the window's seconds."""
    out = np.zeros((windows, 4), np.float32)
    quarter = rate // 4
    quarters = audio.size // quarter
    if quarters == 0:
        return out
    power = (audio[: quarters * quarter].reshape(quarters, quarter).astype(np.float64) ** 2).mean(1)
    levels = _db(power)
    per_window = int(WINDOW_SECONDS * 4)
    spectra = spectrogram(audio, rate)
    magnitude = np.sqrt(spectra)
    flux = (
        np.maximum(np.diff(magnitude, axis=0), 0).sum(axis=1) if len(spectra) > 1 else np.zeros(0)
    )
    flux_per_window = int(WINDOW_SECONDS * FRAMES_PER_SECOND)
    window_levels = np.array(
        [_db(power[i * per_window : (i + 1) * per_window].mean()) for i in range(windows)]
    )
    window_flux = np.array(
        [flux[i * flux_per_window : (i + 1) * flux_per_window].mean() for i in range(windows)]
        if flux.size
        else np.zeros(windows)
    )
    out[:, 0] = window_levels - np.median(window_levels)
    peaks = [levels[i * per_window : (i + 1) * per_window].max() for i in range(windows)]
    out[:, 1] = np.array(peaks) - np.median(levels)
    out[:, 2] = np.log((window_flux + 1e-6) / (np.median(window_flux) + 1e-6))
    if cheer is not None:
        seconds = band_energies(audio, rate, power=spectra)
        if len(seconds):
            p = cheer(seconds)
            step = int(WINDOW_SECONDS)
            out[:, 3] = [p[i * step : (i + 1) * step].max(initial=0.0) for i in range(windows)]
    return out


def frame_differences(frames: np.ndarray) -> np.ndarray:
    """Mean absolute grey-level change of each frame from the one before (first: 0)."""
    if len(frames) < 2:
        return np.zeros(len(frames), np.float32)
    changes = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2))
    return np.concatenate([[0.0], changes]).astype(np.float32)


def motion_features(frames: np.ndarray, fps: float, windows: int) -> np.ndarray:
    """windows × 3: mean motion and peak motion over the clip's median (log ratios), and
    the number of cuts (one frame that changes a lot between two still ones)."""
    out = np.zeros((windows, 3), np.float32)
    changes = frame_differences(frames)
    if changes.size < 3:
        return out
    typical = float(np.median(changes[1:])) + 1.0
    per_window = max(1, round(WINDOW_SECONDS * fps))
    big = changes > max(CUT_MIN_DIFFERENCE, 4 * typical)
    calm_before = np.concatenate([[False], changes[:-1] < 2 * typical])
    calm_after = np.concatenate([changes[1:] < 2 * typical, [False]])
    cuts = big & calm_before & calm_after
    for i in range(windows):
        part = changes[i * per_window : (i + 1) * per_window]
        if part.size:
            out[i, 0] = np.log((part.mean() + 1.0) / typical)
            out[i, 1] = np.log((part.max() + 1.0) / typical)
            out[i, 2] = cuts[i * per_window : (i + 1) * per_window].sum()
    return out


def chat_features(chat: np.ndarray, windows: int) -> np.ndarray:
    """windows × 3 from per-second [messages, hype emote uses, capital messages] aligned
    with the clip: message-rate rise (log ratio over the clip's median window), hype
    emotes per message over the clip's, and the share of capital messages. Each window
    reads the chat `CHAT_LAG_SECONDS` later than its picture."""
    out = np.zeros((windows, 3), np.float32)
    step = int(WINDOW_SECONDS)
    rates, hype, caps, messages = [], [], [], []
    for i in range(windows):
        part = chat[i * step + CHAT_LAG_SECONDS : (i + 1) * step + CHAT_LAG_SECONDS]
        seconds = max(len(part), 1)
        total = part.sum(axis=0) if len(part) else np.zeros(3)
        rates.append(total[0] / seconds)
        messages.append(total[0])
        hype.append(total[1])
        caps.append(total[2])
    rate = np.array(rates)
    all_messages = max(float(np.sum(messages)), 1.0)
    clip_hype = float(np.sum(hype)) / all_messages
    out[:, 0] = np.log((rate + 0.1) / (np.median(rate) + 0.1))
    out[:, 1] = [h / max(m, 1.0) - clip_hype for h, m in zip(hype, messages, strict=True)]
    out[:, 2] = [c / max(m, 1.0) for c, m in zip(caps, messages, strict=True)]
    return out


def clip_features(
    audio: np.ndarray | None,
    frames: np.ndarray | None,
    fps: float,
    chat: np.ndarray | None,
    windows: int,
    cheer: CheerScorer | None,
    rate: int = AUDIO_RATE,
) -> WindowFeatures:
    """Every feature of `windows` windows; a family without data is neutral and missing."""
    missing: dict[str, str] = {}
    parts = []
    if audio is None or audio.size < rate:
        missing["audio"] = "no audio"
        parts.append(np.zeros((windows, len(FAMILIES["audio"])), np.float32))
    elif _db(float(np.mean(audio.astype(np.float64) ** 2))) < SILENCE_DBFS:
        missing["audio"] = "silent audio"
        parts.append(np.zeros((windows, len(FAMILIES["audio"])), np.float32))
    else:
        parts.append(audio_features(audio, windows, cheer, rate))
    if frames is None or len(frames) < 3:
        missing["motion"] = "no video"
        parts.append(np.zeros((windows, len(FAMILIES["motion"])), np.float32))
    else:
        parts.append(motion_features(frames, fps, windows))
    if chat is None or len(chat) == 0:
        missing["chat"] = "no chat counts"
        parts.append(np.zeros((windows, len(FAMILIES["chat"])), np.float32))
    else:
        parts.append(chat_features(chat, windows))
    return WindowFeatures(np.concatenate(parts, axis=1), missing)
