"""Model versions and their embeddings in PostgreSQL (no torch here: numpy + SQL).

A version's item embeddings live in `track_embeddings`; the serving copy is `tracks.embedding`
(HNSW-indexed). Promotion rewrites the serving copy and every owner embedding in ONE
transaction, so a reader sees the old version or the new one, never a mix (MVCC).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.limits import EMBEDDING_DIM, MODEL_VERSIONS_KEPT, TASTE_HALF_LIFE_DAYS
from core.models import ModelVersion


def as_array(value: Any) -> np.ndarray:
    """A pgvector value from the driver (Vector or ndarray) as float32 numpy."""
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    return np.asarray(value, dtype=np.float32)


def l2_normalize(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


async def _raw(session: AsyncSession) -> Any:
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    return raw.driver_connection


async def serving_version(session: AsyncSession) -> ModelVersion | None:
    stmt = select(ModelVersion).where(ModelVersion.status == "serving")
    return (await session.execute(stmt)).scalar_one_or_none()


async def create_version(
    session: AsyncSession,
    track_ids: np.ndarray,
    item_emb: np.ndarray,
    *,
    params: Mapping[str, Any],
    metrics: Mapping[str, Any] | None = None,
    n_users: int = 0,
    n_interactions: int = 0,
    status: str = "candidate",
) -> int:
    """Store a trained version's item embeddings (not serving yet); returns its id."""
    if item_emb.shape != (len(track_ids), EMBEDDING_DIM):
        raise ValueError(f"item_emb has shape {item_emb.shape}, expected ({len(track_ids)}, 64)")
    version = ModelVersion(
        status=status,
        trained_at=datetime.now(UTC),
        dim=EMBEDDING_DIM,
        n_users=n_users,
        n_items=len(track_ids),
        n_interactions=n_interactions,
        metrics=dict(metrics or {}),
        params=dict(params),
    )
    session.add(version)
    await session.flush()
    emb = l2_normalize(item_emb)
    driver = await _raw(session)
    await driver.copy_records_to_table(
        "track_embeddings",
        records=((version.id, int(t), emb[i]) for i, t in enumerate(track_ids)),
        columns=["model_version", "track_id", "embedding"],
    )
    return version.id


async def item_embeddings(
    session: AsyncSession, track_ids: list[int], version: int | None = None
) -> dict[int, np.ndarray]:
    """Embeddings of the serving version (or of `version`), by track id."""
    if not track_ids:
        return {}
    if version is None:
        rows = await session.execute(
            text("SELECT id, embedding FROM tracks WHERE id = ANY(:ids) AND embedding IS NOT NULL"),
            {"ids": list(track_ids)},
        )
    else:
        rows = await session.execute(
            text(
                "SELECT track_id, embedding FROM track_embeddings "
                "WHERE model_version = :v AND track_id = ANY(:ids)"
            ),
            {"v": version, "ids": list(track_ids)},
        )
    return {int(r[0]): as_array(r[1]) for r in rows}


def taste_vector(
    vectors: list[np.ndarray], ages_days: list[float] | None = None, half_life: float = 0.0
) -> np.ndarray | None:
    """Mean of the picked/added tracks' embeddings; recency-weighted when half_life > 0."""
    if not vectors:
        return None
    stack = np.stack(vectors).astype(np.float64)
    if ages_days is None or half_life <= 0:
        return stack.mean(axis=0).astype(np.float32)
    weights = np.power(0.5, np.asarray(ages_days, dtype=np.float64) / half_life)
    return (weights[:, None] * stack).sum(axis=0).astype(np.float32) / np.float32(weights.sum())


async def owner_taste(
    session: AsyncSession, owner_id: int, version: int | None = None
) -> tuple[np.ndarray | None, str]:
    """The owner's embedding from their history, in the space of `version` (serving if None).

    Only onboarding picks: exactly their mean. Once adds exist: a recency-weighted mean of
    picks and adds, so the taste follows what the owner actually keeps choosing."""
    rows = (
        await session.execute(
            text(
                "SELECT track_id, kind, extract(epoch FROM now() - created_at) / 86400.0 "
                "FROM taste_signals WHERE owner_id = :o ORDER BY created_at"
            ),
            {"o": owner_id},
        )
    ).all()
    if not rows:
        return None, "none"
    embs = await item_embeddings(session, list({int(r[0]) for r in rows}), version)
    picked = [(embs[int(r[0])], float(r[2])) for r in rows if int(r[0]) in embs]
    if not picked:
        return None, "none"
    has_adds = any(r[1] == "add" for r in rows)
    if not has_adds:
        return taste_vector([v for v, _ in picked]), "onboarding"
    return (
        taste_vector([v for v, _ in picked], [a for _, a in picked], TASTE_HALF_LIFE_DAYS),
        "history",
    )


async def save_owner_embedding(
    session: AsyncSession, owner_id: int, vector: np.ndarray, source: str, version: int | None
) -> None:
    await session.execute(
        text(
            "INSERT INTO owner_embeddings (owner_id, embedding, source, model_version, updated_at) "
            "VALUES (:o, :e, :s, :v, now()) ON CONFLICT (owner_id) DO UPDATE SET "
            "embedding = EXCLUDED.embedding, source = EXCLUDED.source, "
            "model_version = EXCLUDED.model_version, updated_at = now()"
        ),
        {"o": owner_id, "e": np.asarray(vector, dtype=np.float32), "s": source, "v": version},
    )


async def rebuild_owner(session: AsyncSession, owner_id: int) -> np.ndarray | None:
    """Recompute and store one owner's embedding from their history (serving space)."""
    version = await serving_version(session)
    vector, source = await owner_taste(session, owner_id)
    if vector is not None:
        await save_owner_embedding(
            session, owner_id, vector, source, version.id if version else None
        )
    return vector


async def owner_embedding(session: AsyncSession, owner_id: int) -> np.ndarray | None:
    row = (
        await session.execute(
            text("SELECT embedding FROM owner_embeddings WHERE owner_id = :o"), {"o": owner_id}
        )
    ).first()
    return None if row is None else as_array(row[0])


async def promote(
    session: AsyncSession, version_id: int, model_owner_emb: Mapping[int, np.ndarray] | None = None
) -> None:
    """Make `version_id` the serving version, atomically with every owner embedding.

    Owners the model saw in training take its owner embedding; every other owner's embedding
    is recomputed from their history in the new space (an old-space vector is meaningless)."""
    # Serialise promotions (retrain job vs admin rollback).
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('tys:promote'))"))
    await session.execute(
        text(
            "UPDATE tracks t SET embedding = te.embedding, embedding_version = te.model_version "
            "FROM track_embeddings te WHERE te.model_version = :v AND te.track_id = t.id"
        ),
        {"v": version_id},
    )
    await session.execute(
        text(
            "UPDATE tracks SET embedding = NULL, embedding_version = NULL "
            "WHERE embedding_version IS DISTINCT FROM :v AND embedding IS NOT NULL"
        ),
        {"v": version_id},
    )
    owners = [
        int(r[0])
        for r in await session.execute(
            text(
                "SELECT DISTINCT owner_id FROM taste_signals UNION SELECT owner_id FROM owner_embeddings"
            )
        )
    ]
    model_owner_emb = model_owner_emb or {}
    for owner_id in owners:
        if owner_id in model_owner_emb:
            await save_owner_embedding(
                session, owner_id, model_owner_emb[owner_id], "model", version_id
            )
            continue
        vector, source = await owner_taste(session, owner_id, version_id)
        if vector is not None:
            await save_owner_embedding(session, owner_id, vector, source, version_id)
        else:
            await session.execute(
                text("DELETE FROM owner_embeddings WHERE owner_id = :o"), {"o": owner_id}
            )
    now = datetime.now(UTC)
    await session.execute(
        update(ModelVersion)
        .where(ModelVersion.status == "serving", ModelVersion.id != version_id)
        .values(status="retired")
    )
    await session.execute(
        update(ModelVersion)
        .where(ModelVersion.id == version_id)
        .values(status="serving", promoted_at=now)
    )


async def prune_versions(session: AsyncSession, keep: int = MODEL_VERSIONS_KEPT) -> list[int]:
    """Drop the embeddings of all but the newest `keep` versions (serving always kept)."""
    rows = await session.execute(
        text(
            "SELECT id FROM model_versions WHERE status <> 'serving' AND id NOT IN "
            "(SELECT id FROM model_versions ORDER BY id DESC LIMIT :k) "
            "AND EXISTS (SELECT 1 FROM track_embeddings te WHERE te.model_version = model_versions.id)"
        ),
        {"k": keep},
    )
    dropped = [int(r[0]) for r in rows]
    if dropped:
        await session.execute(
            text("DELETE FROM track_embeddings WHERE model_version = ANY(:ids)"), {"ids": dropped}
        )
    return dropped


# --- day-one embeddings without torch -------------------------------------------------


def spectral_item_embeddings(
    n_items: int,
    playlist_edges: np.ndarray,
    tag_edges: np.ndarray,
    n_playlists: int,
    n_tags: int,
    dim: int = EMBEDDING_DIM,
    tag_weight: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """Item embeddings from the starter playlists and tags alone (a truncated SVD of the
    symmetric-normalised item x (playlist + tag) matrix). This is what serves on day one,
    before the first LightGCN training; a track with no playlist still gets a meaningful
    vector from its tags."""
    cols = n_playlists + n_tags
    mat = np.zeros((n_items, cols), dtype=np.float64)
    if len(playlist_edges):
        mat[playlist_edges[:, 0], playlist_edges[:, 1]] = 1.0
    if len(tag_edges):
        mat[tag_edges[:, 0], n_playlists + tag_edges[:, 1]] = tag_weight
    d_items = np.maximum(mat.sum(axis=1), 1e-9)
    d_cols = np.maximum(mat.sum(axis=0), 1e-9)
    norm = mat / np.sqrt(d_items)[:, None] / np.sqrt(d_cols)[None, :]
    k = min(dim, min(norm.shape))
    u, s, _ = np.linalg.svd(norm, full_matrices=False)
    emb = u[:, :k] * np.sqrt(s[:k])[None, :]
    if k < dim:
        # Tiny catalogs: pad with small deterministic noise to keep the declared dimension.
        rng = np.random.default_rng(seed)
        emb = np.hstack([emb, rng.normal(0, 1e-3, size=(n_items, dim - k))])
    return l2_normalize(emb)


async def bootstrap_if_needed(session: AsyncSession) -> int | None:
    """No serving version yet: build day-one embeddings from starter playlists and tags,
    store them as version 'spectral' and promote it. Returns the version id, or None."""
    if await serving_version(session) is not None:
        return None
    track_ids = np.array(
        [r[0] for r in await session.execute(text("SELECT id FROM tracks ORDER BY id"))],
        dtype=np.int64,
    )
    if len(track_ids) == 0:
        return None
    index = {int(t): i for i, t in enumerate(track_ids)}
    pl_rows = (
        await session.execute(
            text(
                "SELECT pt.playlist_id, pt.track_id FROM playlist_tracks pt "
                "JOIN playlists p ON p.id = pt.playlist_id"
            )
        )
    ).all()
    playlists = {pid: j for j, pid in enumerate(sorted({int(r[0]) for r in pl_rows}))}
    pe = np.array([(index[int(t)], playlists[int(p)]) for p, t in pl_rows], dtype=np.int64)
    tag_rows = (await session.execute(text("SELECT track_id, tag_id FROM track_tags"))).all()
    tags = {tid: j for j, tid in enumerate(sorted({int(r[1]) for r in tag_rows}))}
    te = np.array([(index[int(t)], tags[int(g)]) for t, g in tag_rows], dtype=np.int64)
    emb = spectral_item_embeddings(
        len(track_ids), pe.reshape(-1, 2), te.reshape(-1, 2), len(playlists), len(tags)
    )
    version = await create_version(
        session,
        track_ids,
        emb,
        params={"kind": "spectral", "tag_weight": 0.5},
        n_users=len(playlists),
        n_interactions=len(pe),
    )
    await promote(session, version)
    return version
