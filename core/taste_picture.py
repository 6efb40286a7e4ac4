"""/taste: a picture of an owner's taste on a 2-D map of the catalog.

The map is a PCA projection (numpy SVD) of the serving item embeddings: a sample of catalog
tracks in grey, a few prominent tags labelled at their centroids, and the owner's onboarding
picks and added tracks highlighted. Drawing uses matplotlib's object API with the Agg canvas
(no pyplot global state) in a worker thread, so the event loop keeps serving other owners.
"""

from __future__ import annotations

import asyncio
import io
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import embeddings
from core.catalog.tags import vocabulary
from core.limits import TASTE_IMAGE_PX, TASTE_LABEL_TAGS, TASTE_SAMPLE_TRACKS
from core.texts import t

# Fonts with Hangul, best first (scripts/system-deps.sh installs fonts-nanum / fonts-noto-cjk).
CJK_FONTS = (
    "NanumGothic",
    "NanumBarunGothic",
    "Noto Sans CJK KR",
    "NanumSquareRound",
    "Noto Sans CJK JP",
    "Noto Serif CJK KR",
)


@dataclass(frozen=True)
class TasteMap:
    catalog: np.ndarray  # (n, 2) grey background
    picks: np.ndarray  # (k, 2)
    adds: np.ndarray  # (m, 2)
    owner: np.ndarray | None  # (2,) the owner embedding, when there is one
    labels: list[tuple[str, float, float]]  # (tag key, x, y)


def pca_2d(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, components (2, d)) of the rows of `matrix`; signs fixed so reruns agree."""
    mean = matrix.mean(axis=0)
    _, _, vt = np.linalg.svd(matrix - mean, full_matrices=False)
    comps = vt[:2]
    # An SVD's sign is arbitrary: make each component's largest loading positive.
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps = comps * np.where(signs == 0, 1, signs)[:, None]
    if comps.shape[0] < 2:  # a one-track catalog: a flat second axis
        comps = np.vstack([comps, np.zeros((2 - comps.shape[0], matrix.shape[1]))])
    return mean, comps


async def load_taste_map(session: AsyncSession, owner_id: int) -> TasteMap | None:
    """None when the owner has no picks or adds with an embedding (nothing to draw)."""
    signals = (
        await session.execute(
            text("SELECT DISTINCT track_id, kind FROM taste_signals WHERE owner_id = :o"),
            {"o": owner_id},
        )
    ).all()
    if not signals:
        return None
    embs = await embeddings.item_embeddings(session, list({int(r[0]) for r in signals}))
    added = {int(r[0]) for r in signals if r[1] == "add"}
    picks = [embs[i] for i in {int(r[0]) for r in signals if r[1] == "pick"} - added if i in embs]
    adds = [embs[i] for i in added if i in embs]
    if not picks and not adds:
        return None
    # A deterministic sample (same picture twice in a row), spread over the whole catalog.
    sample = (
        await session.execute(
            text(
                "SELECT embedding FROM tracks WHERE embedding IS NOT NULL "
                "ORDER BY md5(id::text) LIMIT :n"
            ),
            {"n": TASTE_SAMPLE_TRACKS},
        )
    ).all()
    catalog = np.stack([embeddings.as_array(r[0]) for r in sample])
    owner_tags = (
        await session.execute(text("SELECT taste_tags FROM owners WHERE id = :o"), {"o": owner_id})
    ).scalar_one_or_none() or []
    centroids = (
        await session.execute(
            text(
                "SELECT g.key, avg(t.embedding) AS c, count(*) AS n FROM track_tags tt "
                "JOIN tags g ON g.id = tt.tag_id JOIN tracks t ON t.id = tt.track_id "
                "WHERE t.embedding IS NOT NULL GROUP BY g.key ORDER BY n DESC, g.key"
            )
        )
    ).all()
    # The owner's own tags first (they explain the picture), then the most common tags.
    ranked = sorted(centroids, key=lambda r: (r.key not in owner_tags, -r.n, r.key))
    chosen = ranked[:TASTE_LABEL_TAGS]
    mean, comps = pca_2d(np.vstack([catalog, *picks, *adds]))

    def project(vectors: list[np.ndarray] | np.ndarray) -> np.ndarray:
        if len(vectors) == 0:
            return np.zeros((0, 2))
        return (np.asarray(vectors, dtype=np.float64) - mean) @ comps.T

    owner_vec = await embeddings.owner_embedding(session, owner_id)
    tag_xy = project([embeddings.as_array(r.c) for r in chosen])
    return TasteMap(
        catalog=project(catalog),
        picks=project(picks),
        adds=project(adds),
        owner=None if owner_vec is None else project([owner_vec])[0],
        labels=[(r.key, float(x), float(y)) for r, (x, y) in zip(chosen, tag_xy, strict=True)],
    )


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """A font family with Hangul known to matplotlib, or None."""
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in have), None)


# Font caches and the mathtext parser are shared module state: one drawing at a time.
_DRAW_LOCK = threading.Lock()


def render_png(tmap: TasteMap, lang: str) -> bytes:
    """The picture as PNG bytes, TASTE_IMAGE_PX square (readable on a phone)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = cjk_font()
    if lang == "ko" and font is None:
        lang = "en"  # no Hangul font here: English labels rather than empty boxes
    family = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    vocab = vocabulary()
    with _DRAW_LOCK:
        fig = Figure(figsize=(TASTE_IMAGE_PX / 100, TASTE_IMAGE_PX / 100), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.03, 0.12, 0.94, 0.78))
        text_kw = {"family": family}
        ax.scatter(
            tmap.catalog[:, 0],
            tmap.catalog[:, 1],
            s=16,
            c="#b9b9b9",
            alpha=0.45,
            linewidths=0,
            label=t("taste_plot_catalog", lang),
        )
        for key, x, y in tmap.labels:
            ax.text(
                x,
                y,
                vocab[key].label(lang) if key in vocab else key,
                fontsize=24,
                fontweight="bold",
                color="#444444",
                ha="center",
                va="center",
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#cccccc", "alpha": 0.8},
                zorder=6,  # above the highlighted tracks: a label must stay legible
                **text_kw,
            )
        if len(tmap.picks):
            ax.scatter(
                tmap.picks[:, 0],
                tmap.picks[:, 1],
                s=300,
                c="#2a7de1",
                edgecolors="white",
                linewidths=2,
                label=t("taste_plot_picks", lang),
                zorder=3,
            )
        if len(tmap.adds):
            ax.scatter(
                tmap.adds[:, 0],
                tmap.adds[:, 1],
                s=600,
                marker="*",
                c="#ff8c1a",
                edgecolors="#8a4500",
                linewidths=1,
                label=t("taste_plot_adds", lang),
                zorder=4,
            )
        if tmap.owner is not None:
            ax.scatter(
                [tmap.owner[0]],
                [tmap.owner[1]],
                s=700,
                marker="X",
                c="#d62728",
                edgecolors="white",
                linewidths=2,
                label=t("taste_plot_you", lang),
                zorder=5,
            )
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        fig.suptitle(t("taste_plot_title", lang), fontsize=40, fontweight="bold", **text_kw)
        fig.legend(
            loc="lower center",
            ncol=2,
            frameon=False,
            markerscale=0.8,
            prop={"family": family, "size": 24},
        )
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, facecolor="white")
    return buf.getvalue()


async def render(tmap: TasteMap, lang: str) -> bytes:
    """render_png in a worker thread: drawing takes ~0.5 s of CPU."""
    return await asyncio.to_thread(render_png, tmap, lang)
