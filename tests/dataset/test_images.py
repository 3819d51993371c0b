"""``transform(multimodal_data_s3_path=…)``: OpenAI image_url images staged in S3 (moto; http on 127.0.0.1)."""

from __future__ import annotations

import base64
import http.server
import threading

import boto3
import pytest

from amzn_nova_forge import Model, TrainingMethod
from amzn_nova_forge.dataset import JSONLDatasetLoader
from amzn_nova_forge.dataset._images import ImageStager
from amzn_nova_forge.errors import ConfigError, DataPrepError

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _rec(url: str) -> dict:
    return {
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "What?"}, {"type": "image_url", "image_url": {"url": url}}],
            },
            {"role": "assistant", "content": "A pixel."},
        ]
    }


def _transform(rows, **kw):
    loader = JSONLDatasetLoader.from_records(rows)
    loader.transform(training_method=TrainingMethod.SFT_LORA, model=Model.NOVA_LITE_2, **kw)
    return loader


def _image(rec):
    return next(b["image"] for b in rec["messages"][0]["content"] if "image" in b)


@pytest.fixture
def image_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = {"/cat.jpg": JPEG, "/big.png": PNG + b"\x00" * (5 << 20), "/page.html": b"<html></html>"}.get(
                self.path
            )
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_data_uris_are_uploaded_once_with_the_given_owner(s3_bucket):
    url = "data:image/png;Base64," + base64.b64encode(PNG).decode()
    loader = _transform(
        [_rec(url), _rec(url)],
        multimodal_data_s3_path=f"s3://{s3_bucket}/imgs",
        multimodal_data_bucket_owner="111122223333",
    )
    recs = list(loader)
    img = _image(recs[0])
    assert img["format"] == "png" and img["source"]["s3Location"]["bucketOwner"] == "111122223333"
    key = img["source"]["s3Location"]["uri"][len(f"s3://{s3_bucket}/") :]
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert body == PNG and _image(recs[1]) == img
    loader.validate(TrainingMethod.SFT_LORA, Model.NOVA_LITE_2)
    with pytest.raises(DataPrepError, match="same bucket"):
        loader.save("s3://another-bucket/train.jsonl")


def test_http_images_are_downloaded_within_limits(s3_bucket, image_server):
    loader = _transform([_rec(f"{image_server}/cat.jpg")], multimodal_data_s3_path=f"s3://{s3_bucket}/imgs/")
    img = _image(next(iter(loader)))
    assert img["format"] == "jpeg" and img["source"]["s3Location"]["bucketOwner"] == "123456789012"
    for path, part in (("/big.png", "over 4,194,304 bytes"), ("/page.html", "not a PNG, JPEG"), ("/nope", "404")):
        with pytest.raises(DataPrepError, match=part) as e:
            list(
                _transform(
                    [_rec(f"{image_server}/cat.jpg"), _rec(f"{image_server}{path}")],
                    multimodal_data_s3_path=f"s3://{s3_bucket}/i/",
                )
            )
        assert e.value.line == 2 and e.value.field == "$.messages[0].content[1]"


@pytest.mark.parametrize(
    ("url", "part"),
    [
        ("data:image/png;base64,!!!notbase64", "invalid base64"),
        ("data:image/png;base64," + base64.b64encode(b"GIF? no, text").decode(), "not a PNG, JPEG, GIF or WebP"),
        ("ftp://example.com/a.png", "neither s3://"),
    ],
)
def test_bad_images_name_line_and_path(s3_bucket, url, part):
    with pytest.raises(DataPrepError, match=part) as e:
        _transform([_rec(url)], multimodal_data_s3_path=f"s3://{s3_bucket}/i/")
    assert e.value.line == 1 and e.value.field == "$.messages[0].content[1]"


@pytest.mark.parametrize(
    ("kwargs", "part"),
    [
        ({"multimodal_data_s3_path": "/local/images"}, "s3://bucket/prefix/"),
        ({"multimodal_data_s3_path": "s3:///x"}, "s3://bucket/prefix/"),
        ({"multimodal_data_s3_path": "s3://b/i/", "multimodal_data_bucket_owner": "12"}, "12-digit"),
        ({"multimodal_data_bucket_owner": "111122223333"}, "needs multimodal_data_s3_path"),
    ],
)
def test_bad_staging_arguments(kwargs, part):
    with pytest.raises(ConfigError, match=part):
        _transform([_rec("s3://b/x.png")], **kwargs)


def test_s3_images_stay_and_take_the_stager_owner_without_a_column(s3_bucket):
    loader = _transform([_rec(f"s3://{s3_bucket}/a.png")], multimodal_data_s3_path=f"s3://{s3_bucket}/i/")
    assert _image(next(iter(loader)))["source"]["s3Location"] == {
        "uri": f"s3://{s3_bucket}/a.png",
        "bucketOwner": "123456789012",
    }
    with pytest.raises(DataPrepError, match="multimodal_data_s3_path="):
        list(_transform([_rec("data:image/png;base64," + base64.b64encode(PNG).decode())]))
    assert ImageStager(f"s3://{s3_bucket}/i").uploaded == []
