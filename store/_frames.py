"""Stream frames in GridFS, their capture failures, and the classifier's labels.

Frames are GridFS files (bucket `frames`) with deterministic ids (`schema.frame_id`), so a
re-run stores nothing twice; their metadata says which stream, channel, game and slot they
show. Reading many frames fetches their chunks in one query (`store._reader.read_frames`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import gridfs

from store import schema
from store._mongo import Store, translate_errors
from store._reader import read_frames
from store._records import (
    ClassifierModel,
    FrameDocument,
    FrameFailure,
    FrameLabel,
    FrameMetadata,
    StreamCategory,
    StreamGenre,
)
from store._retention import beyond_retention

Document = dict[str, Any]


class FrameStore(Store):
    """Writes and reads frames, capture failures, frame labels and stream genres."""

    @property
    def bucket(self) -> gridfs.GridFSBucket:
        return gridfs.GridFSBucket(self.db, bucket_name=schema.FRAMES_BUCKET)

    def has_frame(self, frame_id: str) -> bool:
        with translate_errors("reading frames"):
            return self.db[schema.FRAME_FILES].find_one({"_id": frame_id}, {"_id": 1}) is not None

    def put_frame(self, frame_id: str, data: bytes, metadata: FrameMetadata) -> bool:
        """Store one frame; False when it is already stored (the stored one is kept)."""
        with translate_errors(f"storing frame {frame_id}"):
            try:
                self.bucket.upload_from_stream_with_id(
                    frame_id, frame_id, data, metadata=dict(metadata)
                )
            except gridfs.errors.FileExists:
                return False
        return True

    def record_failure(self, failure: FrameFailure) -> None:
        with translate_errors("recording a frame failure"):
            self.db[schema.FRAME_FAILURES].replace_one(
                {"_id": failure["_id"]}, dict(failure), upsert=True
            )

    def read_frame(self, frame_id: str) -> bytes:
        with translate_errors(f"reading frame {frame_id}"):
            try:
                return self.bucket.open_download_stream(frame_id).read()
            except gridfs.errors.NoFile as error:
                raise KeyError(frame_id) from error

    def read_frames(self, ids: Sequence[str]) -> dict[str, bytes]:
        with translate_errors("reading frames"):
            return read_frames(self.db, ids)

    def frame_documents(self) -> list[FrameDocument]:
        """Every stored frame's GridFS document (no bytes)."""
        with translate_errors("listing frames"):
            found = self.db[schema.FRAME_FILES].find(
                {}, {"length": 1, "uploadDate": 1, "metadata": 1}
            )
            return cast(list[FrameDocument], list(found))  # the schema's shape, as stored

    def apply_retention(self, max_age: timedelta, max_count: int, now: datetime) -> int:
        """Delete frames older than `max_age`, then the oldest beyond `max_count` (with their
        labels); return how many were deleted. Stream genres stay: the rollups use them."""
        doomed = beyond_retention(
            ((d["metadata"]["slot"], d["_id"]) for d in self.frame_documents()),
            now,
            max_age,
            max_count,
        )
        with translate_errors("deleting old frames"):
            for frame_id in doomed:
                self.bucket.delete(frame_id)
            if doomed:
                self.db[schema.FRAME_LABELS].delete_many({"frame_id": {"$in": doomed}})
        return len(doomed)

    def labelled_frame_ids(self, model_version: str) -> set[str]:
        with translate_errors("reading frame labels"):
            return {
                d["frame_id"]
                for d in self.db[schema.FRAME_LABELS].find(
                    {"model_version": model_version}, {"frame_id": 1}
                )
            }

    def labels_of_streams(self, model_version: str, stream_keys: Iterable[str]) -> list[FrameLabel]:
        """Every label this model gave to frames of these streams (`<slot>/<stream id>`)."""
        wanted = {"model_version": model_version, "stream_key": {"$in": sorted(set(stream_keys))}}
        with translate_errors("reading frame labels"):
            return cast(list[FrameLabel], list(self.db[schema.FRAME_LABELS].find(wanted)))

    def write_labels(self, labels: Iterable[FrameLabel]) -> None:
        self._upsert_all(schema.FRAME_LABELS, labels, "writing frame labels")

    def write_stream_genres(self, documents: Iterable[StreamGenre]) -> set[datetime]:
        """Store per-stream predictions; return the slots they touch."""
        documents = list(documents)
        self._upsert_all(schema.STREAM_GENRES, documents, "writing stream genres")
        return {d["slot"] for d in documents}

    def write_stream_categories(self, documents: Iterable[StreamCategory]) -> None:
        """Store per-stream recognised categories (`stream_categories`)."""
        self._upsert_all(schema.STREAM_CATEGORIES, documents, "writing stream categories")

    def set_classifier_genres(self, genres: Mapping[str, str], model_version: str) -> None:
        """Record the frame classifier's genre of games (by id) on their documents: the
        genre their streams count under while the catalogue has none for them."""
        with translate_errors("writing classifier genres"):
            for game_id, genre in genres.items():
                self.db[schema.GAMES].update_one(
                    {"_id": game_id},
                    {"$set": {"classifier_genre": genre, "classifier_model": model_version}},
                )

    def record_model(self, document: ClassifierModel) -> None:
        """Store (or refresh) a labelling model's document in `classifier_models`."""
        self._upsert_all(schema.CLASSIFIER_MODELS, [document], "recording the classifier model")

    def withdraw_untrusted_classifier_genres(self) -> set[str]:
        """Remove the classifier genre of every game whose genre came from a model not
        recorded as trusted; return those games' ids."""
        with translate_errors("withdrawing classifier genres"):
            trusted = {
                d["_id"]
                for d in self.db[schema.CLASSIFIER_MODELS].find({"trusted": True}, {"_id": 1})
            }
            games = {
                d["_id"]
                for d in self.db[schema.GAMES].find(
                    {"classifier_genre": {"$exists": True}}, {"classifier_model": 1}
                )
                if d.get("classifier_model") not in trusted
            }
            for game_id in sorted(games):
                self.db[schema.GAMES].update_one(
                    {"_id": game_id}, {"$unset": {"classifier_genre": "", "classifier_model": ""}}
                )
        return games

    def slots_of_games(self, game_ids: Iterable[str]) -> set[datetime]:
        """The slots of every labelled stream of these games (whose rollups used their
        classifier genre)."""
        ids = sorted(set(game_ids))
        if not ids:
            return set()
        with translate_errors("reading stream genres"):
            return {
                d["slot"]
                for d in self.db[schema.STREAM_GENRES].find({"game_id": {"$in": ids}}, {"slot": 1})
            }

    def _upsert_all(
        self, collection: str, documents: Iterable[Mapping[str, Any]], action: str
    ) -> None:
        """Replace-or-insert by `_id`: new documents in one `insert_many`, the others one by
        one. On FerretDB v1 an upsert that inserts costs ~13 ms, `insert_many` ~0.07 ms a
        document, and a bulk of upserts is slower still (measured with 1,800 labels)."""
        by_id = {d["_id"]: dict(d) for d in documents}
        if not by_id:
            return
        with translate_errors(action):
            existing = {
                d["_id"]
                for d in self.db[collection].find({"_id": {"$in": list(by_id)}}, {"_id": 1})
            }
            self._insert_new(collection, [d for i, d in by_id.items() if i not in existing])
            for document_id in existing:
                self.db[collection].replace_one({"_id": document_id}, by_id[document_id])
