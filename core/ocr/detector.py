"""Text-line detection with the PP-OCRv4 detection network shipped inside the
`rapidocr-onnxruntime` wheel (a DB segmentation model: it marks where text is, whatever the
script, and reads nothing). We only need its probability map; the box extraction below is
our own and keeps axis-aligned boxes, which is all a phone screenshot has.

The model is loaded once per process (`get_detector`) and run with onnxruntime on all cores.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.ocr import tuning
from core.ocr.base import ProviderUnavailable

MODEL_PACKAGE = "rapidocr_onnxruntime"
MODEL_FILE = "models/ch_PP-OCRv4_det_infer.onnx"


@dataclass(frozen=True, slots=True)
class TextBox:
    """A detected text line in page pixels, with the detector's mean probability."""

    x0: int
    y0: int
    x1: int
    y1: int
    score: float


def model_path() -> Path:
    # find_spec locates the wheel without importing it (its __init__ loads OpenCV and the
    # recogniser we do not use).
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ProviderUnavailable(f"{MODEL_PACKAGE} is not installed (it carries the model)")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.exists():
        raise ProviderUnavailable(f"detection model missing: {path}")
    return path


class TextDetector:
    def __init__(self, threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model_path()), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self._lock = threading.Lock()

    @staticmethod
    def _scale_for(h: int, w: int) -> float:
        scale = tuning.DET_SHORT_SIDE / min(h, w)
        return min(scale, tuning.DET_MAX_LONG_SIDE / max(h, w))

    def detect(self, rgb: np.ndarray) -> list[TextBox]:
        """Text-line boxes of an RGB page (H, W, 3 uint8), top to bottom."""
        h, w = rgb.shape[:2]
        scale = self._scale_for(h, w)
        # The network needs sides that are multiples of 32.
        dh = max(32, round(h * scale / 32) * 32)
        dw = max(32, round(w * scale / 32) * 32)
        small = cv2.resize(rgb, (dw, dh), interpolation=cv2.INTER_AREA)
        x = (small.astype(np.float32) / 255.0 - 0.5) / 0.5
        x = x.transpose(2, 0, 1)[None]
        with self._lock:  # one inference at a time; it already uses every core
            prob = self._session.run(None, {self._input: x})[0][0, 0]
        return self._boxes(prob, w / dw, h / dh)

    @staticmethod
    def _boxes(prob: np.ndarray, sx: float, sy: float) -> list[TextBox]:
        mask = (prob > tuning.DET_PIXEL_THRESHOLD).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
        out: list[TextBox] = []
        for i in range(1, n):
            x, y, bw, bh, area = (int(v) for v in stats[i])
            if bh < tuning.DET_MIN_HEIGHT // 2 or area < 4:
                continue
            region = prob[y : y + bh, x : x + bw]
            score = float(region[labels[y : y + bh, x : x + bw] == i].mean())
            if score < tuning.DET_BOX_THRESHOLD:
                continue
            # DB shrinks text to a kernel during training; grow it back by the same rule
            # (offset = area * ratio / perimeter) to cover whole glyphs.
            d = bw * bh * tuning.DET_UNCLIP / (2 * (bw + bh))
            if bh + 2 * d < tuning.DET_MIN_HEIGHT:
                continue
            out.append(
                TextBox(
                    max(0, round((x - d) * sx)),
                    max(0, round((y - d) * sy)),
                    round((x + bw + d) * sx),
                    round((y + bh + d) * sy),
                    score,
                )
            )
        out.sort(key=lambda b: (b.y0, b.x0))
        return out


_detector: TextDetector | None = None
_detector_lock = threading.Lock()


def get_detector() -> TextDetector:
    """The process-wide detector (the model loads once, ~0.2 s)."""
    global _detector
    with _detector_lock:
        if _detector is None:
            _detector = TextDetector()
        return _detector
