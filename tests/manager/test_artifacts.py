"""Reading output.tar.gz: manifest in memory, and extraction that refuses path traversal and links."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import aws_support as A
import pytest

from amzn_nova_forge.manager._artifacts import checkpoint_from_manifest, read_manifest, read_member, safe_extract


def test_manifest_member_is_read_in_memory_ignoring_unsafe_names(tmp_path: Path) -> None:
    data = A.tar_gz(
        {
            "/etc/manifest.json": b'{"checkpoint_s3_bucket": "s3://evil/"}',
            "../manifest.json": b'{"checkpoint_s3_bucket": "s3://evil2/"}',
            "output/manifest.json": json.dumps({"checkpoint_s3_bucket": "s3://good/ckpt/"}).encode(),
        }
    )
    assert json.loads(read_member(data, "manifest.json") or b"{}") == {"checkpoint_s3_bucket": "s3://good/ckpt/"}
    archive = tmp_path / "output.tar.gz"
    archive.write_bytes(data)
    assert checkpoint_from_manifest(read_manifest(str(archive))) == "s3://good/ckpt/"
    assert read_manifest(str(tmp_path / "missing.tar.gz")) is None
    assert not (tmp_path.parent / "manifest.json").exists()


@pytest.mark.parametrize("name", ["../escape.txt", "/abs/escape.txt", "a/../../escape.txt"])
def test_safe_extract_refuses_traversal_before_writing_anything(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(A.tar_gz({"ok.txt": b"fine", name: b"evil"}))
    dest = tmp_path / "out"
    with pytest.raises(ValueError, match="unsafe member path"):
        safe_extract(archive, dest)
    assert not dest.exists() and not (tmp_path / "escape.txt").exists()


def test_safe_extract_refuses_links_and_extracts_regular_files(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        link = tarfile.TarInfo("link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
    bad = tmp_path / "link.tar.gz"
    bad.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="link or special file"):
        safe_extract(bad, tmp_path / "x")
    good = tmp_path / "good.tar.gz"
    good.write_bytes(A.tar_gz({"manifest.json": b"{}", "metrics/step_wise_training_metrics.csv": b"a\n"}))
    files = safe_extract(good, tmp_path / "y")
    assert sorted(p.relative_to(tmp_path / "y").as_posix() for p in files) == [
        "manifest.json",
        "metrics/step_wise_training_metrics.csv",
    ]
    assert checkpoint_from_manifest({"checkpoint_s3_path": "s3://b/c"}) == "s3://b/c"
    assert checkpoint_from_manifest({}) is None
