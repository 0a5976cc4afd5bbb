"""The data key-encryption key: from the environment, separate from identity's, a derived
development key only outside production; a key wrapped under one KEK does not open under
another."""

from __future__ import annotations

import base64
import io

import pytest

from identity.crypto import KeyConfigError, kek_from_setting
from marketplace.data.crypto import (
    ChunkWriter,
    TamperedData,
    chunks_open,
    data_kek,
    data_key_generate,
    kek_id,
    key_unwrap,
    key_wrap,
)

KEK = base64.b64encode(bytes(range(32))).decode()


def test_the_data_kek_comes_from_the_setting(settings):
    settings.SMARTB_DATA_KEK = KEK
    assert data_kek() == bytes(range(32))


def test_the_development_kek_is_not_identitys(settings):
    settings.SMARTB_DATA_KEK = None
    kek = data_kek()
    assert len(kek) == 32
    assert kek != kek_from_setting(settings.SMARTB_KEY_ENCRYPTION_KEY)


def test_production_needs_the_data_kek(settings, monkeypatch):
    settings.SMARTB_DATA_KEK = None
    monkeypatch.delenv("SMARTB_DATA_KEK", raising=False)
    settings.SETTINGS_MODULE = "smartb.settings.production"
    with pytest.raises(KeyConfigError):
        data_kek()


def test_a_key_wrapped_under_one_kek_does_not_open_under_another(settings):
    data_key = data_key_generate()
    wrapped = key_wrap(data_key, kek=bytes(range(32)), context="v1")
    assert key_unwrap(wrapped, kek=bytes(range(32)), context="v1") == data_key
    with pytest.raises(TamperedData):
        key_unwrap(wrapped, kek=bytes(32), context="v1")
    assert kek_id(bytes(range(32))) != kek_id(bytes(32))


def test_chunks_are_bound_to_their_file_and_count():
    data_key = data_key_generate()
    out = io.BytesIO()
    writer = ChunkWriter(out, data_key=data_key, context="a/b.bin", chunk_bytes=4)
    writer.write(b"0123456789")
    writer.close()
    assert writer.index == 3
    stored = out.getvalue()
    assert (
        b"".join(
            chunks_open(io.BytesIO(stored), data_key=data_key, context="a/b.bin", chunk_count=3)
        )
        == b"0123456789"
    )
    with pytest.raises(TamperedData):
        list(chunks_open(io.BytesIO(stored), data_key=data_key, context="a/c.bin", chunk_count=3))
    with pytest.raises(TamperedData):  # a chunk dropped at the end
        list(chunks_open(io.BytesIO(stored), data_key=data_key, context="a/b.bin", chunk_count=4))
    with pytest.raises(TamperedData):  # a chunk added at the end
        list(chunks_open(io.BytesIO(stored), data_key=data_key, context="a/b.bin", chunk_count=2))
