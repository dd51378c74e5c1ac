"""The fact store published to object storage (``CXLOOP_FACTS_DIR=s3://…``, decision 024).

A real S3-compatible server (moto's, over HTTP on 127.0.0.1) holds the published store. The
writer publishes each version there; a second machine's writer continues from it; DuckDB reads
it through pyarrow's S3 filesystem, and a real Spark Connect server's executors through Hadoop's
``s3a`` connector, and both answer as DuckDB does over the local copy.
"""

import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from unittest import mock

import pyarrow.fs as pafs
import pytest
from django.db import connection
from django.test import override_settings

from cxloop.facts import published, store, sync
from cxloop.facts.synthetic import generate
from cxloop.feedback.services import Feedback, ingest_many
from cxloop.insights import store as insights_store
from cxloop.insights.store import FactStore, SparkFactStore
from cxloop.lib import env
from tests import spark_connect
from tests.test_facts_sync import FEB, FactData, FactStoreAssertions, expected_months
from tests.test_insights_spark import assert_same, run_cases

BUCKET = "facts"
KEYS = {"AWS_ACCESS_KEY_ID": "cxloop-test", "AWS_SECRET_ACCESS_KEY": "cxloop-test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint():
    """An S3-compatible server on 127.0.0.1 with the bucket ``facts``, and AWS's variables
    naming its credentials (read by pyarrow's S3 filesystem, as in production)."""
    from moto.server import ThreadedMotoServer

    port = spark_connect.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**KEYS, "AWS_DEFAULT_REGION": "us-east-1"}.items():
            patch.setenv(name, value)
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        endpoint = f"http://127.0.0.1:{port}"
        pafs.S3FileSystem(
            endpoint_override=f"127.0.0.1:{port}", scheme="http", allow_bucket_creation=True
        ).create_dir(BUCKET)
        yield endpoint
    server.stop()


def new_uri() -> str:
    return f"s3://{BUCKET}/store-{secrets.token_hex(4)}"


def named(manifest: store.Manifest, base: Path) -> set[str]:
    files = store.named_files(manifest, exists=lambda path: (base / path).is_file())
    return {path for paths in files.values() for path in paths}


class PublishedStoreTests(FactStoreAssertions, FactData):
    @pytest.fixture(autouse=True)
    def _object_store(self, s3_endpoint):
        self.endpoint = s3_endpoint

    def setUp(self):
        super().setUp()  # the working copy in a folder of its own
        self.enterContext(override_settings(FACTS_URI=new_uri(), S3_ENDPOINT=self.endpoint))
        self.location = published.location()

    def add_february_response(self, score: int = 2):
        items = [Feedback({1: score}, FEB, "api", customer=self.acme)]
        ingest_many(survey=self.survey, items=items)

    def mtimes(self) -> dict[str, object]:
        selector = pafs.FileSelector(self.location.root, recursive=True)
        return {
            info.path.removeprefix(self.location.root + "/"): info.mtime
            for info in self.location.filesystem.get_file_info(selector)
        }

    def assertPublishedIsTheCopy(self, base: Path) -> store.Manifest:
        manifest = self.location.read_manifest()
        local = store.read_manifest(base=base)
        self.assertEqual(manifest.version, local.version)
        self.assertEqual(manifest.files, local.files)  # the copy knows where each file went
        self.assertEqual(set(manifest.files), named(manifest, base))
        listing = self.location.listing()
        for path, name in manifest.files.items():
            self.assertRegex(name, published.OBJECT)
            self.assertIn(name, listing)
            with self.location.filesystem.open_input_stream(self.location.key(name)) as stream:
                self.assertEqual(stream.read(), (base / path).read_bytes(), path)
        return manifest

    def test_a_rebuild_publishes_the_store_as_written(self):
        sync.rebuild()
        manifest = self.assertPublishedIsTheCopy(self.root)
        self.assertStoreEqualsDatabase()
        self.assertEqual(set(manifest.months), expected_months())
        self.assertEqual(set(self.location.listing()), {*manifest.files.values(), "manifest.json"})

    def test_readers_read_the_published_store(self):
        sync.rebuild()
        reader = insights_store.get_store()
        self.assertIs(reader.directory, self.location)
        on_s3, local = reader.tables(), FactStore(self.root).tables()
        self.assertEqual(on_s3.manifest.version, local.manifest.version)
        for name in ("answers", "responses", "comments", "answer_counts", "customers"):
            with self.subTest(table=name):
                self.assertEqual(rows(getattr(on_s3, name)), rows(getattr(local, name)))
        self.add_february_response()
        sync.refresh_months(["2026-02"])
        self.assertEqual(reader.tables().answers.count().execute(), 12)  # the new version
        self.assertEqual(str(reader.directory), self.location.uri)  # what cache keys name

    def test_a_refresh_uploads_only_its_files_and_keeps_the_version_before_for_one_write(self):
        first = (sync.rebuild(), self.location.read_manifest())[1]
        foreign = self.location.key("notes/readme.txt")
        with self.location.filesystem.open_output_stream(foreign) as note:
            note.write(b"not the store's")
        uploaded = self.mtimes()
        time.sleep(1.1)  # S3 keeps an object's time to the second: an upload now would show
        self.add_february_response()
        sync.refresh_months(["2026-02"])
        second = self.assertPublishedIsTheCopy(self.root)
        self.assertStoreEqualsDatabase()
        january = {p: n for p, n in second.files.items() if "month=2026-01" in p}
        self.assertTrue(january and january.items() <= first.files.items())
        for name in january.values():  # not uploaded again
            self.assertEqual(self.mtimes()[name], uploaded[name], name)
        listing = set(self.location.listing())
        self.assertTrue(set(first.files.values()) <= listing)  # readers of the first finish
        self.add_february_response(score=4)
        sync.refresh_months(["2026-02"])
        third = self.assertPublishedIsTheCopy(self.root)
        listing = set(self.location.listing())
        self.assertEqual(
            listing,
            {*second.files.values(), *third.files.values(), "manifest.json", "notes/readme.txt"},
        )

    def test_a_writer_on_another_machine_continues_from_the_published_version(self):
        sync.rebuild()
        before = self.location.read_manifest()
        self.add_february_response()
        other = Path(self.enterContext(tempfile.TemporaryDirectory()))
        with override_settings(FACTS_DIR=other):
            # February alone: January came from the published store (an empty copy that
            # had not fetched it would be rebuilt whole).
            self.assertEqual(sync.refresh_months(["2026-02"]).months, ("2026-02",))
            after = self.assertPublishedIsTheCopy(other)
            self.assertEqual(after.months["2026-01"].parts, before.months["2026-01"].parts)
            self.assertNotEqual(after.version, before.version)
            self.assertStoreEqualsDatabase()
        # The first machine's stale copy catches up at its next write.
        sync.refresh_months(["2026-01"])
        self.assertPublishedIsTheCopy(self.root)
        self.assertStoreEqualsDatabase()

    def test_when_publishing_fails_the_published_version_stays_whole(self):
        sync.rebuild()
        reader = insights_store.get_store()
        customers = reader.tables().customers.count().execute()
        version = self.location.read_manifest().version
        self.add_february_response()
        refused = OSError("the object store refused the upload")
        for step in ("upload", "put_manifest"):  # the first file, or the manifest at the end
            with self.subTest(failing=step):
                failing = mock.patch.object(published.Location, step, side_effect=refused)
                with failing, self.assertRaises(OSError):
                    sync.refresh_months(["2026-02"])
                self.assertEqual(self.location.read_manifest().version, version)
                self.assertEqual(store.read_manifest(base=self.root).version, version)
                self.assertEqual(reader.tables().customers.count().execute(), customers)
        sync.refresh_months(["2026-02"])
        self.assertPublishedIsTheCopy(self.root)
        self.assertStoreEqualsDatabase()

    def test_a_damaged_published_store_is_written_anew(self):
        sync.rebuild()
        damages = {
            "a manifest that is not JSON": lambda: self.put("manifest.json", b"{half"),
            "an object gone": lambda: self.location.filesystem.delete_file(
                self.location.key(self.location.read_manifest().files["customers.parquet"])
            ),
        }
        for damage, do in damages.items():
            with self.subTest(damage=damage):
                do()
                sync.refresh_months(["2026-02"])
                self.assertPublishedIsTheCopy(self.root)
                self.assertStoreEqualsDatabase()

    def test_a_writer_refuses_to_publish_over_another_writers_version(self):
        sync.rebuild()
        started_from = published.inspect(self.location)
        self.add_february_response()
        sync.refresh_months(["2026-02"])  # another writer, while the lock was lost
        newer = self.location.read_manifest()
        with self.assertRaisesRegex(store.FactStoreError, "another writer"):
            published.publish(
                self.location, self.root, store.read_manifest(base=self.root),
                written=[], since=started_from,
            )  # fmt: skip
        self.assertEqual(self.location.read_manifest(), newer)

    def test_a_restore_publishes_the_archived_copy(self):
        sync.rebuild()
        archived = Path(self.enterContext(tempfile.TemporaryDirectory())) / "facts"
        shutil.copytree(self.root, archived)
        self.add_february_response()
        sync.refresh_months(["2026-02"])
        shutil.rmtree(self.root)
        shutil.copytree(archived, self.root)  # as cxloop restore puts it in place
        self.assertEqual(published.republish().version, store.read_manifest(base=archived).version)
        self.assertPublishedIsTheCopy(self.root)

    def put(self, name: str, content: bytes) -> None:
        with self.location.filesystem.open_output_stream(self.location.key(name)) as stream:
            stream.write(content)

    @pytest.mark.postgresql  # its advisory lock
    def test_writers_of_every_machine_take_one_lock_on_postgresql(self):
        import psycopg

        settings = connection.settings_dict
        with psycopg.connect(
            dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"],
            port=settings["PORT"] or 5432, autocommit=True,
        ) as other:  # fmt: skip
            trial = "SELECT pg_try_advisory_lock(%s)"
            with store.writing():
                self.assertFalse(other.execute(trial, [published.LOCK_KEY]).fetchone()[0])
            self.assertTrue(other.execute(trial, [published.LOCK_KEY]).fetchone()[0])


def rows(table) -> list[tuple]:
    frame = table.to_pyarrow()
    return sorted(tuple(map(repr, row.values())) for row in frame.to_pylist())


def test_the_setting_takes_an_s3_uri_and_names_a_wrong_one():
    assert env.parse_object_store("X", "s3://facts/cx/") == "s3://facts/cx"
    assert env.parse_object_store("X", "/srv/facts") is None
    refused = ("s3://", "s3:///x", "s3://facts", "s3://facts/../x", "s3://k@facts/x", "s3a://facts/x",
             "gs://facts/x", "s3://Facts/x", "s3://facts:9000/x")  # fmt: skip
    for wrong in refused:
        with pytest.raises(env.SettingError, match="s3://bucket"):
            env.parse_object_store("CXLOOP_FACTS_DIR", wrong)
    assert env.parse_http_url("X", "http://127.0.0.1:9000/") == "http://127.0.0.1:9000"
    with pytest.raises(env.SettingError, match="CXLOOP_S3_ENDPOINT"):
        env.parse_http_url("CXLOOP_S3_ENDPOINT", "ftp://minio:9000")


# Spark's executors read the published store --------------------------------------------------


@pytest.fixture(scope="module")
def spark_on_s3(s3_endpoint, tmp_path_factory):
    reason = spark_connect.unavailable()
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"Spark over s3a cannot run in CI: {reason}", pytrace=False)
        pytest.skip(f"Spark over s3a did not run: {reason}")
    jars = spark_connect.s3a_jars(Path.home() / ".cache" / "cxloop" / "s3a-jars")
    s3 = spark_connect.ObjectStore(s3_endpoint, KEYS["AWS_ACCESS_KEY_ID"],
                                   KEYS["AWS_SECRET_ACCESS_KEY"])  # fmt: skip
    log = tmp_path_factory.mktemp("spark-s3") / "connect-server.log"
    with spark_connect.running(log, s3=(s3, jars)) as server:
        yield server.remote


def test_spark_and_duckdb_over_the_published_store_answer_as_duckdb_over_the_copy(
    s3_endpoint, spark_on_s3, tmp_path
):
    synthetic = generate(tmp_path, responses=3_000, teams=6, segments=3, years=1, seed=11)
    copy = Path(synthetic.directory)
    location = published.open_location(new_uri(), s3_endpoint)
    published.publish_copy(location, copy)
    expected = run_cases(FactStore(copy, threads=1).tables(), synthetic.touchpoint_stages)
    on_duckdb = run_cases(FactStore(location, threads=1).tables(), synthetic.touchpoint_stages)
    spark = SparkFactStore(location, remote=spark_on_s3)
    try:
        on_spark = run_cases(spark.tables(), synthetic.touchpoint_stages)
    finally:
        spark.close()
    assert on_duckdb.keys() == expected.keys() == on_spark.keys()
    for key in expected:
        assert_same(on_duckdb[key], expected[key], f"DuckDB over S3: {key}")
        assert_same(on_spark[key], expected[key], f"Spark over s3a: {key}")
