"""The Frames page's account of each labelling model: how good it is on its validation
games or channels, whether its output reaches the market, and what network it runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import html

# Below this many validation frames a model's figures are rough: one frame moves the
# balanced accuracy by points, and a calibration error over a handful of frames (binned by
# confidence) is mostly noise, so scaling can seem to worsen it.
FEW_VALIDATION_FRAMES = 100


def model_quality(models: Sequence[Mapping[str, Any]]) -> list[Any]:
    """How good each labelling model is on its validation games, and whether its genres
    count in the market charts."""
    if not models:
        return []
    items = []
    for model in models:
        figures = model.get("validation") or {}
        quality = figures.get("balanced_accuracy")
        classes = len(model.get("classes", [])) or 1
        threshold = float(model.get("min_balanced_accuracy", 0))
        if model.get("target") == "game":
            items.append(category_model_quality(model))
            continue
        if quality is None:
            said = "no validation games (too few to hold any out)"
        else:
            said = (
                f"validation balanced accuracy {quality:.0%} over {figures['games']:.0f} unseen "
                f"games (chance {1 / classes:.0%}, {classes} classes), macro-F1 "
                f"{figures['macro_f1']:.2f}; calibration error {figures['ece_before']:.2f} → "
                f"{figures['ece_after']:.2f} after temperature scaling"
            )
            said += few_frames(figures, ", the calibration error most of all")
        verdict = (
            "its genres count in the market charts"
            if model.get("trusted")
            else f"below the {threshold:.0%} needed, so its genres stay on this page and do not "
            "enter the market charts"
        )
        items.append(
            html.Li(
                [html.Strong(str(model["_id"])), f": {said}; {verdict}.{network(model)}"],
                className="model-trusted" if model.get("trusted") else "model-untrusted",
            )
        )
    return [html.H2("Model quality"), html.Ul(items, id="model-quality")]


def few_frames(figures: Mapping[str, Any], most_of_all: str = "") -> str:
    """What to add to a model's figures when they rest on few validation frames."""
    frames = figures.get("frames")
    if frames is None or frames >= FEW_VALIDATION_FRAMES:
        return ""
    return f", over only {frames:.0f} frames: rough figures{most_of_all}"


def network(model: Mapping[str, Any]) -> str:
    """The model's backbone and its weights' source; nothing for documents without one."""
    return f" Network: {model['backbone']}." if model.get("backbone") else ""


def category_model_quality(model: Mapping[str, Any]) -> html.Li:
    figures = model.get("validation") or {}
    classes = len(model.get("classes", [])) or 1
    said = (
        f"recognises {classes} categories; on {figures['games']:.0f} categories' unseen "
        f"channels balanced accuracy {figures['balanced_accuracy']:.0%} (chance "
        f"{1 / classes:.0%}), macro-F1 {figures['macro_f1']:.2f}"
        if "balanced_accuracy" in figures
        else f"recognises {classes} categories; no validation channels (too few to hold any out)"
    )
    said += few_frames(figures)
    if "trusted" not in model:  # recorded before category models were held to the bar
        verdict = "It flags streams, never sets genres."
    elif model["trusted"]:
        verdict = "Its flags are shown; it never sets genres."
    else:
        threshold = float(model.get("min_balanced_accuracy", 0))
        verdict = f"Below the {threshold:.0%} needed, so it flags no stream (it never sets genres)."
    return html.Li(
        [html.Strong(str(model["_id"])), f": {said}. {verdict}{network(model)}"],
        className="model-category",
    )
