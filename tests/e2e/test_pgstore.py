"""The shared store (wirecrawler.store.pgstore) against a real PostgreSQL, and object storage
(wirecrawler.store.objects) against a real SeaweedFS: the lease, the fence, publication, recovery."""

import threading
import time
from pathlib import Path

import psycopg
import pytest

from wirecrawler.store.objects import ObjectFeeds, ObjectLocation, ObjectStoreError, ObjectStoreUnavailable
from wirecrawler.store.pgstore import LeaseLost, SharedStore, StoreUnavailable, redacted
from wirecrawler.store.publog import PUBLISHED
from wirecrawler.store.seen import SeenStoreBusy, SeenStoreError

FOLDERS = ("briefs", "leads")


@pytest.fixture
def stores(postgres_url):
    opened = []

    def open_store() -> SharedStore:
        store = SharedStore.open(postgres_url)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


@pytest.fixture
def objects(s3_feed_url, s3_env, monkeypatch):
    for name, value in s3_env.items():
        monkeypatch.setenv(name, value)
    feeds = ObjectFeeds.connect(s3_feed_url)
    yield feeds
    feeds.close()


def feed_file(tmp_path: Path, *ids: str) -> Path:
    path = tmp_path / f"feed-{len(list(tmp_path.iterdir()))}.jsonl"
    path.write_text("".join(f'{{"id": "{i}"}}\n' for i in ids), encoding="utf-8")
    return path


def publish(store: SharedStore, objects: ObjectFeeds, path: str, file: Path, kind: str, ids: list[str]):
    assert store.claim_upload(path, [(kind, i) for i in ids], kind=kind, run="r")
    assert objects.put_new(path, file)
    return store.publish_upload(path, size=file.stat().st_size, sha256="0" * 64)


def test_a_new_database_gets_the_schema_and_a_newer_one_is_refused(stores, postgres_url):
    assert stores().schema_version() == 1
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("UPDATE wirecrawler_schema SET version = 99")
    with pytest.raises(SeenStoreError, match="schema version 99, written by a newer wirecrawler"):
        SharedStore.open(postgres_url)


def test_the_url_is_shown_without_its_password():
    assert redacted("postgresql://wire:secret@db.example:6543/seen") == "postgresql://wire@db.example:6543/seen"


def test_in_50_races_for_the_lease_exactly_one_crawl_wins(stores):
    racers = [stores() for _ in range(4)]
    for _ in range(50):
        start = threading.Barrier(len(racers))
        winners: list[SharedStore] = []
        refused: list[str] = []

        def race(store: SharedStore) -> None:
            start.wait()
            try:
                store.acquire_lease(30)
                winners.append(store)
            except SeenStoreBusy as busy:
                refused.append(str(busy))

        threads = [threading.Thread(target=race, args=(store,)) for store in racers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(winners) == 1 and len(refused) == 3
        assert all("in use by another crawl" in message for message in refused)
        winners[0].release_lease()


def test_each_takeover_gets_the_next_epoch_and_the_busy_message_names_the_holder(stores):
    first, second = stores(), stores()
    assert first.acquire_lease(30, holder="host-a:1") == 1
    with pytest.raises(SeenStoreBusy, match=r"\(host-a:1, lease epoch 1, \d+ s left unless it renews\)"):
        second.acquire_lease(30, holder="host-b:2")
    first.release_lease()
    assert second.acquire_lease(30, holder="host-b:2") == 2


def test_a_holder_whose_lease_expired_writes_nothing_even_before_a_takeover(stores, objects, tmp_path):
    holder = stores()
    holder.acquire_lease(1)
    time.sleep(1.2)
    with pytest.raises(LeaseLost, match="expired or was taken over"):
        holder.commit([("lead", "a")])
    with pytest.raises(LeaseLost):
        holder.claim_upload("leads/x.jsonl", [("lead", "a")], kind="lead", run="r")
    with pytest.raises(LeaseLost):
        holder.renew_lease()
    assert holder.count() == 0


def test_a_stale_epoch_is_refused_at_commit_after_a_takeover(stores, objects, tmp_path):
    stale, taker = stores(), stores()
    stale.acquire_lease(1)
    file = feed_file(tmp_path, "a", "b")
    assert stale.claim_upload("leads/run.jsonl", [("lead", "a"), ("lead", "b")], kind="lead", run="r")
    assert objects.put_new("leads/run.jsonl", file)
    time.sleep(1.2)
    assert taker.acquire_lease(30) == 2
    with pytest.raises(LeaseLost):
        stale.publish_upload("leads/run.jsonl", size=1, sha256="0" * 64)
    assert taker.entries() == [] and taker.count() == 0
    # The taker's recovery deletes the stale crawl's upload: it was never published.
    recovered = taker.recover(objects, FOLDERS)
    assert recovered.unpublished == 1
    assert not objects.exists("leads/run.jsonl") and taker.pending() == []


def test_publishing_appends_an_entry_marks_the_ids_seen_and_takes_the_name(stores, objects, tmp_path):
    store = stores()
    store.acquire_lease(30)
    entry, added = publish(store, objects, "briefs/s.jsonl", feed_file(tmp_path, "1", "2"), "brief", ["1", "2"])
    assert (entry.seq, entry.event, entry.path, entry.kind, entry.records, entry.run) == (
        1, PUBLISHED, "briefs/s.jsonl", "brief", 2, "r"
    )  # fmt: skip
    assert added == 2 and store.contains("brief", "1") and not store.contains("lead", "1")
    assert store.pending() == []
    # The name is taken for good: by its entry, in the store, and by the object, in the bucket.
    assert not store.claim_upload("briefs/s.jsonl", [("brief", "3")], kind="brief", run="r2")
    assert not objects.put_new("briefs/s.jsonl", feed_file(tmp_path, "3"))
    assert objects.read("briefs/s.jsonl") == b'{"id": "1"}\n{"id": "2"}\n'
    entry2, added2 = publish(store, objects, "briefs/s-2.jsonl", feed_file(tmp_path, "2", "3"), "brief", ["2", "3"])
    assert (entry2.seq, added2, store.count()) == (2, 1, 3)
    assert [e.seq for e in store.entries()] == [1, 2] and store.last_seq() == 2


def test_a_withdrawn_upload_is_dropped_once(stores):
    store = stores()
    store.acquire_lease(30)
    assert store.claim_upload("leads/w.jsonl", [("lead", "a")], kind="lead", run="r")
    assert store.drop_upload("leads/w.jsonl") is True
    assert store.drop_upload("leads/w.jsonl") is False
    assert store.pending() == [] and store.count() == 0


def test_seq_stays_gapless_and_unique_with_concurrent_appenders_and_a_file_is_pruned_once(stores, objects, tmp_path):
    publisher, pruners = stores(), [stores() for _ in range(3)]
    publisher.acquire_lease(60)
    published = [
        publish(publisher, objects, f"leads/{n}.jsonl", feed_file(tmp_path, str(n)), "lead", [str(n)])[0]
        for n in range(6)
    ]
    failures = []

    def prune_all(store: SharedStore) -> None:
        try:
            for entry in published:
                store.append_pruned(entry)
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=prune_all, args=(store,)) for store in pruners]
    for thread in threads:
        thread.start()
    for n in range(6, 12):
        publish(publisher, objects, f"leads/{n}.jsonl", feed_file(tmp_path, str(n)), "lead", [str(n)])
    for thread in threads:
        thread.join()
    assert failures == []
    entries = publisher.entries()
    assert [e.seq for e in entries] == list(range(1, 12 + 6 + 1))  # each file pruned once, by whichever prune was first
    assert sorted(e.of_seq for e in entries if e.event == "pruned") == [e.seq for e in published]


def test_recovery_deletes_unpublished_uploads_and_garbage_and_keeps_published_files(stores, objects, tmp_path):
    dead, next_crawl = stores(), stores()
    dead.acquire_lease(1)
    publish(dead, objects, "briefs/kept.jsonl", feed_file(tmp_path, "k"), "brief", ["k"])
    assert dead.claim_upload("briefs/pending.jsonl", [("brief", "p")], kind="brief", run="r")
    assert objects.put_new("briefs/pending.jsonl", feed_file(tmp_path, "p"))
    assert dead.claim_upload("leads/never-uploaded.jsonl", [("lead", "n")], kind="lead", run="r")
    assert objects.put_new("leads/garbage.jsonl", feed_file(tmp_path, "g"))  # a fenced-off crawl's upload
    assert objects.put_new("reports/not-a-feed.json", feed_file(tmp_path, "x"))  # outside the kind folders
    time.sleep(1.2)
    next_crawl.acquire_lease(30)
    recovered = next_crawl.recover(objects, FOLDERS)
    assert (recovered.unpublished, recovered.garbage_removed) == (2, 1)
    assert objects.exists("briefs/kept.jsonl") and objects.exists("reports/not-a-feed.json")
    assert not objects.exists("briefs/pending.jsonl") and not objects.exists("leads/garbage.jsonl")
    assert next_crawl.pending() == [] and next_crawl.count() == 1
    assert next_crawl.recover(objects, FOLDERS) == type(recovered)()  # nothing left to settle


def test_a_restarted_server_costs_the_holder_neither_its_lease_nor_its_place(postgres, stores, objects, tmp_path):
    store = stores()
    store.acquire_lease(60)
    publish(store, objects, "leads/before.jsonl", feed_file(tmp_path, "a"), "lead", ["a"])
    postgres.restart()
    assert store.contains("lead", "a")  # connected again
    store.renew_lease()
    entry, _ = publish(store, objects, "leads/after.jsonl", feed_file(tmp_path, "b"), "lead", ["b"])
    assert entry.seq == 2


def test_an_unreachable_server_is_said_as_such(stores, postgres):
    url = postgres.database_url("no_such_server").replace(f":{postgres.port}/", ":1/")
    with pytest.raises(StoreUnavailable, match="cannot reach the shared store"):
        SharedStore.open(url)


def test_object_locations_and_refusals(s3_env, monkeypatch):
    assert ObjectLocation.parse("s3://bucket/a/b/") == ObjectLocation("bucket", "a/b")
    assert ObjectLocation.parse("s3://bucket").key("leads/x.jsonl") == "leads/x.jsonl"
    for bad in ("s3://", "s3://b/../x", "file:///x"):
        with pytest.raises(ObjectStoreError):
            ObjectLocation.parse(bad)
    for name, value in s3_env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ObjectStoreError, match="cannot use the object storage s3://no-such-bucket"):
        ObjectFeeds.connect("s3://no-such-bucket/feeds")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    with pytest.raises(ObjectStoreUnavailable):
        ObjectFeeds.connect("s3://any/feeds")
