"""What one address may upload to a public server in an hour."""

from __future__ import annotations

import httpx

from cnn_lab.ui.upload_quota import HOUR_S, UploadQuota


def test_an_address_is_charged_what_it_sent_in_the_last_hour():
    quota = UploadQuota(app=None, mb_per_hour=10)
    assert quota.charge("10.0.0.1", 6 * 2**20, now=0.0) is None
    why = quota.charge("10.0.0.1", 6 * 2**20, now=60.0)
    assert "at most 10 MB an hour from one address" in why and "6 MB sent" in why and "try again in 59 min" in why
    assert quota.charge("10.0.0.2", 6 * 2**20, now=60.0) is None  # another address has its own hour
    assert quota.charge("10.0.0.1", 6 * 2**20, now=HOUR_S + 1) is None  # the first upload is an hour old


def test_a_public_server_refuses_uploads_over_the_hourly_quota(playground):
    url, _ = playground("--public", "--upload-mb-per-hour", "2")
    upload = f"{url.rstrip('/')}/gradio_api/upload"
    megabyte = {"files": ("data.zip", b"x" * (2**20 - 1000), "application/zip")}
    answers = [httpx.post(upload, files=megabyte, timeout=30) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "at most 2 MB an hour from one address" in answers[2].json()["detail"]
