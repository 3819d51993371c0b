"""core.storage: atomic writes leave nothing on failure, streamed reads, typed errors naming the URI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from amzn_nova_forge.core import storage
from amzn_nova_forge.errors import ConfigError


class Boom(RuntimeError):
    pass


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---- local ------------------------------------------------------------------------------------
def test_local_write_failure_leaves_nothing_and_keeps_the_old_file(tmp_path: Path) -> None:
    dest = tmp_path / "out" / "data.jsonl"
    with pytest.raises(Boom), storage.open_write(dest) as f:
        f.write(b"partial line")
        raise Boom("disk full")
    assert _leftovers(dest.parent) == []  # neither the file nor a .part temporary
    dest.write_bytes(b"old\n")
    with pytest.raises(Boom), storage.open_write(dest) as f:
        f.write(b"new but incomplete")
        raise Boom
    assert dest.read_bytes() == b"old\n"
    assert _leftovers(dest.parent) == ["data.jsonl"]


def test_local_write_text_replaces_and_returns_the_uri(tmp_path: Path) -> None:
    dest = tmp_path / "a" / "b.txt"
    assert storage.write_text(dest, "caf\u00e9\n") == str(dest)
    assert dest.read_bytes() == "caf\u00e9\n".encode()
    storage.write_text(dest, "second")
    assert storage.read_text(dest) == "second"
    assert _leftovers(dest.parent) == ["b.txt"]


def test_local_download_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"x" * 100)
    dest = tmp_path / "copy" / "dst.bin"
    assert storage.download(str(src), dest) == dest and dest.read_bytes() == b"x" * 100
    dest.unlink()

    def fail_midway(fsrc: Any, fdst: Any, length: int = 0) -> None:
        fdst.write(fsrc.read(10))
        raise Boom("copy interrupted")

    monkeypatch.setattr(storage.shutil, "copyfileobj", fail_midway)
    with pytest.raises(Boom):
        storage.download(str(src), dest)
    assert _leftovers(dest.parent) == []


def test_iter_lines_local_strips_endings_and_names_the_long_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"one\r\ntwo\n\nlast-without-newline")
    assert list(storage.iter_lines(path)) == [b"one", b"two", b"", b"last-without-newline"]
    path.write_bytes(b"ok\n" + b"y" * 50 + b"\nok\n")
    with pytest.raises(ValueError, match="line 2 is 51 bytes, over the 20-byte limit"):
        list(storage.iter_lines(path, max_line_bytes=20))


def test_local_paths_never_create_an_aws_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from amzn_nova_forge.core import aws

    monkeypatch.setattr(aws, "client", lambda *a, **k: pytest.fail("AWS client created for a local path"))
    storage.write_bytes(tmp_path / "d" / "x.bin", b"1")
    assert storage.read_bytes(tmp_path / "d" / "x.bin") == b"1"
    assert storage.exists(tmp_path / "d" / "x.bin") and not storage.exists(tmp_path / "nope")
    assert list(storage.list_uris(tmp_path / "d")) == [str(tmp_path / "d" / "x.bin")]
    with pytest.raises(FileNotFoundError):
        storage.read_bytes(tmp_path / "nope")


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("/local/path", "Not an S3 URI: '/local/path'"),
        ("s3://", "has no bucket name"),
        ("s3:///key", "has no bucket name"),
    ],
)
def test_parse_s3_errors_say_what_is_expected(uri: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as e:
        storage.parse_s3(uri)
    assert "Expected 's3://bucket/key'" in str(e.value)


def test_parse_and_join() -> None:
    assert storage.parse_s3("s3://b/k/e/y.json") == ("b", "k/e/y.json")
    assert storage.parse_s3("s3://b") == ("b", "")
    assert storage.join("s3://b/p/", "/a/", "c.json") == "s3://b/p/a/c.json"
    assert storage.join("/tmp/x", "y") == os.path.join("/tmp/x", "y")


# ---- S3 (moto) --------------------------------------------------------------------------------
def test_s3_write_failure_uploads_nothing(s3_bucket: str) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    with pytest.raises(Boom), storage.open_write("s3://my-bucket/out/data.jsonl") as f:
        f.write(b"partial")
        raise Boom
    assert s3.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0
    assert storage.write_text("s3://my-bucket/out/data.jsonl", "done\n") == "s3://my-bucket/out/data.jsonl"
    assert s3.get_object(Bucket=s3_bucket, Key="out/data.jsonl")["Body"].read() == b"done\n"


def test_s3_write_with_kms_key_is_encrypted(s3_bucket: str) -> None:
    key_id = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
    storage.write_bytes("s3://my-bucket/enc.bin", b"secret", kms_key_id=key_id)
    head = boto3.client("s3", region_name="us-east-1").head_object(Bucket=s3_bucket, Key="enc.bin")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(key_id)


def test_s3_iter_lines_across_chunks(s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "_CHUNK", 4)  # lines straddle reads
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=s3_bucket, Key="d.jsonl", Body=b"first line\r\nsecond\n\nthird-no-newline"
    )
    assert list(storage.iter_lines("s3://my-bucket/d.jsonl")) == [b"first line", b"second", b"", b"third-no-newline"]
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=s3_bucket, Key="long.jsonl", Body=b"a\nbbbbbbbb\n")
    with pytest.raises(ValueError, match="line 2 is 8 bytes, over the 5-byte limit"):
        list(storage.iter_lines("s3://my-bucket/long.jsonl", max_line_bytes=5))


def test_s3_missing_object_and_bucket_are_file_not_found_naming_the_uri(s3_bucket: str, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"s3://my-bucket/nope.jsonl does not exist \(S3 GetObject"):
        storage.read_bytes("s3://my-bucket/nope.jsonl")
    with pytest.raises(FileNotFoundError, match="s3://my-bucket/nope.jsonl does not exist"):
        list(storage.iter_lines("s3://my-bucket/nope.jsonl"))
    with pytest.raises(FileNotFoundError, match="Bucket of s3://no-such-bucket/x does not exist"):
        storage.read_bytes("s3://no-such-bucket/x")
    dest = tmp_path / "dl" / "x.jsonl"
    with pytest.raises(FileNotFoundError, match="s3://my-bucket/nope.jsonl"):
        storage.download("s3://my-bucket/nope.jsonl", dest)
    assert _leftovers(dest.parent) == []  # no partial download, no .part file


def test_s3_exists_object_prefix_and_missing(s3_bucket: str) -> None:
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=s3_bucket, Key="p/q/obj.txt", Body=b"1")
    assert storage.exists("s3://my-bucket/p/q/obj.txt")
    assert storage.exists("s3://my-bucket/p/q")  # a prefix with objects
    assert storage.exists("s3://my-bucket/p/")
    assert not storage.exists("s3://my-bucket/p/q/other.txt")
    assert not storage.exists("s3://my-bucket/empty/")
    assert not storage.exists("s3://no-such-bucket/x")


def test_s3_list_uris_paginates(s3_bucket: str) -> None:
    from amzn_nova_forge.core.aws import client

    pages: list[dict[str, Any]] = []

    def small_pages(params: dict[str, Any], **_: Any) -> None:  # 10 keys a page instead of 1,000
        params["MaxKeys"] = 10
        pages.append(dict(params))

    client("s3").meta.events.register("provide-client-params.s3.ListObjectsV2", small_pages)
    s3 = boto3.client("s3", region_name="us-east-1")
    for i in range(25):
        s3.put_object(Bucket=s3_bucket, Key=f"many/{i:04d}.txt", Body=b"")
    s3.put_object(Bucket=s3_bucket, Key="many/sub/deep.txt", Body=b"")
    everything = list(storage.list_uris("s3://my-bucket/many/"))
    assert len(pages) == 3  # every page was followed
    assert len(everything) == 26 and everything[0] == "s3://my-bucket/many/0000.txt"
    assert "s3://my-bucket/many/sub/deep.txt" in everything
    top = list(storage.list_uris("s3://my-bucket/many/", recursive=False))
    assert len(top) == 25 and "s3://my-bucket/many/sub/deep.txt" not in top


def test_s3_write_to_a_missing_bucket_is_file_not_found(s3_bucket: str, tmp_path: Path) -> None:
    # upload_file wraps the PutObject error in boto3's S3UploadFailedError: still a typed error naming the URI
    with pytest.raises(FileNotFoundError, match=r"Bucket of s3://no-such-bucket/a.txt does not exist \(S3 PutObject"):
        storage.write_text("s3://no-such-bucket/a.txt", "x")
    src = tmp_path / "f.bin"
    src.write_bytes(b"1")
    with pytest.raises(FileNotFoundError, match="Bucket of s3://no-such-bucket/f.bin"):
        storage.upload(src, "s3://no-such-bucket/f.bin")


def test_s3_access_denied_is_an_aws_service_error(s3_bucket: str) -> None:
    from botocore.exceptions import ClientError

    from amzn_nova_forge.errors import AWSServiceError

    err = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}, "ResponseMetadata": {"RequestId": "rid-1"}},
        "GetObject",
    )
    expected = (
        r"s3 GetObject failed \(AccessDenied\): Access Denied \[request id rid-1\]\. while accessing s3://my-bucket/k"
    )
    with pytest.raises(AWSServiceError, match=expected) as e, storage._s3_errors("GetObject", "s3://my-bucket/k"):
        raise err
    assert e.value.code == "AccessDenied"
