"""`docqa llm-server`: assemble the bundled GGUF model (once) and run
llama.cpp's OpenAI-compatible server with it, on loopback by default.

Kept light to import (typer and the standard library only): the CLI imports
this module for every command."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Annotated

import typer

from docqa.errors import DocQAError, ModelUnavailable


def llm_server(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    host: Annotated[
        str, typer.Option(help="Interface to listen on (loopback by default; the server has no authentication).")
    ] = "127.0.0.1",
    threads: Annotated[int | None, typer.Option(help="CPU threads for generation (default: all cores).")] = None,
    ctx: Annotated[int, typer.Option("--ctx", help="Context window in tokens.")] = 4096,
    assemble_only: Annotated[
        bool, typer.Option("--assemble-only", help="Assemble and verify the model file, then exit.")
    ] = False,
) -> None:
    """Run a local LLM (Qwen2.5-Coder-1.5B-Instruct, from PyPI part packages) for `--mode llm`."""
    from docqa.llm import local
    from docqa.settings import Settings

    if not 1 <= port <= 65535:
        raise DocQAError(f"--port must be 1-65535, got {port}")
    settings = Settings()
    model = local.DEFAULT_MODEL
    target = settings.models_dir / model.filename
    if not target.exists():
        typer.echo(f"assembling {model.filename} from {model.parts} packages into {settings.models_dir} (once) …", err=True)
    last = [-1]

    def progress(done: int, total: int) -> None:
        pct = done * 100 // total
        if pct // 10 != last[0]:
            last[0] = pct // 10
            typer.echo(f"  {pct:3d}%", err=True)

    path = local.assemble(settings.models_dir, model, progress=progress)
    typer.echo(f"model: {path} (sha256 verified)", err=True)
    if assemble_only:
        typer.echo(str(path))
        return
    if not local.have_llama_server():
        raise ModelUnavailable(
            'llama.cpp\'s server is not installed; run: pip install "docqa[local-llm]" '
            '(or pip install "llama-cpp-python[server]==0.3.36"; it compiles for a few minutes)'
        )
    if not local.is_loopback(host):
        typer.echo(f"warning: serving on {host}: anyone who can reach it can use the model", err=True)
    n = threads or os.cpu_count() or 2
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    typer.echo("point DocQA at it with:", err=True)
    typer.echo(f"  export DOCQA_LLM_BASE_URL=http://{shown}:{port}/v1")
    typer.echo(f"  export DOCQA_LLM_MODEL={model.name}")
    sys.stdout.flush()
    cmd = local.server_command(path, host, port, n, ctx, model.name)
    try:
        code = subprocess.call(cmd)
    except KeyboardInterrupt:
        code = 0
    if code:
        raise typer.Exit(code)
