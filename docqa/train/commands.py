"""``docqa train-selector``: train the answer selector for the configured
embedding model and write it, with its data card, where the model's profile
finds it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Folder to write the selector and its data card to (default: the bundled profiles)."),
]
TrialOpt = Annotated[Path | None, typer.Option("--cmrc2018", help="CMRC 2018 trial file (cmrc2018_trial.json).")]
DrcdOpt = Annotated[Path | None, typer.Option("--drcd", help="DRCD dev file (DRCD_dev.json).")]
RateOpt = Annotated[
    float,
    typer.Option("--false-answer-rate", min=0.0, max=0.5, help="Share of unanswerable questions the threshold lets through."),
]
ProfileOpt = Annotated[bool, typer.Option("--profile", help="Write into $DOCQA_HOME/profiles/ for the configured model.")]
EnglishOpt = Annotated[
    bool,
    typer.Option(
        "--english/--no-english",
        help="Also train on the machine-translated English questions (docqa/train/english.py; the default). "
        "--no-english: Chinese questions only (docs/selector.md).",
    ),
]
SaidOpt = Annotated[
    bool,
    typer.Option(
        "--colloquial/--no-colloquial",
        help="Also train on the questions reworded in users' everyday words (docqa/train/colloquial.py; the default). "
        "--no-colloquial: without them (docs/selector.md).",
    ),
]
MissOpt = Annotated[
    bool,
    typer.Option(
        "--near-misses/--no-near-misses",
        help="Also train on the hand-written near misses: questions about what a passage names, for a detail "
        "it does not give (docqa/train/near_misses.py; the default). --no-near-misses: without them.",
    ),
]
ReaderOpt = Annotated[
    bool,
    typer.Option(
        "--reader/--no-reader",
        help="Also train the answer reader (a cross-encoder; ~35 of the run's ~50 minutes). --no-reader: without it.",
    ),
]
EnglishReaderOpt = Annotated[
    bool,
    typer.Option(
        "--english-reader/--no-english-reader",
        help="Train the answer reader on the English questions too, so that it reads them when answering "
        "(--no-english-reader: it reads Chinese questions only, and an English one is decided without it).",
    ),
]
WrittenOpt = Annotated[
    bool,
    typer.Option(
        "--english-written",
        help="Train on the English questions put into English by hand (docqa/train/english_written.jsonl) and the "
        "near misses' English versions instead of the machine translations (tried 2026-12-06; docs/selector.md).",
    ),
]
DocsOpt = Annotated[
    bool,
    typer.Option(
        "--documents",
        help="Also train on DocQA's own documents of the kinds users load, with questions in users' words "
        "(docqa/train/documents.py; tried 2026-12-06, not shipped: docs/selector.md).",
    ),
]
MoreSaidOpt = Annotated[
    bool,
    typer.Option(
        "--more-colloquial",
        help="With --colloquial, also the second round of questions reworded by hand (1,888 more; "
        "tried 2026-12-06, not shipped: docs/selector.md).",
    ),
]
KeepReaderOpt = Annotated[
    bool,
    typer.Option(
        "--keep-reader",
        help="Score with the answer reader already in the target folder instead of training it again "
        "(it was trained on the same half of the questions): for a retrain after a feature change, ~35 minutes less.",
    ),
]


def train_selector(
    out: OutOpt = None,
    cmrc2018: TrialOpt = None,
    drcd: DrcdOpt = None,
    false_answer_rate: RateOpt = 0.08,
    profile: ProfileOpt = False,
    reader: ReaderOpt = True,
    english_questions: EnglishOpt = True,
    colloquial_questions: SaidOpt = True,
    near_miss_questions: MissOpt = True,
    document_questions: DocsOpt = False,
    more_colloquial: MoreSaidOpt = False,
    keep_reader: KeepReaderOpt = False,
    english_reader: EnglishReaderOpt = False,
    english_written: WrittenOpt = False,
) -> None:
    """Train the answer selector (which candidate answers, and when to refuse) on training sets only."""
    from tqdm import tqdm

    from docqa.answer.profile import bundled_dir, profile_name
    from docqa.api import Settings, make_embedder
    from docqa.errors import BadRequest
    from docqa.train import card, colloquial, documents, english, near_misses, sets
    from docqa.train.examples import Examples, examples_for
    from docqa.train.fit import ReaderTraining, figures, fit

    if keep_reader and english_reader:
        raise BadRequest(
            "--keep-reader with --english-reader: a kept reader reads the languages it was trained on; "
            "drop --keep-reader to train one for English"
        )
    settings = Settings()
    target = settings.home / "profiles" if profile else (out or bundled_dir())
    stem = profile_name(settings.model).removesuffix(".toml")
    reader_file = target / f"{stem}.reader.safetensors"
    if keep_reader and not reader_file.is_file():
        raise BadRequest(f"--keep-reader: no answer reader at {reader_file}; copy the one to keep there, or drop --keep-reader")
    started = time.perf_counter()
    paths = {k: v for k, v in {"cmrc2018-trial": cmrc2018, "drcd-dev": drcd}.items() if v is not None}
    training = sets.default_sets(settings, paths)
    reworded = colloquial.colloquial_sets(training, more=more_colloquial) if colloquial_questions else []
    if english_questions:
        training += english.english_sets(training, english.WRITTEN if english_written else english.TRANSLATIONS)
    training += reworded
    if near_miss_questions:
        training += near_misses.near_miss_sets(training, english=english_questions and english_written)
    if document_questions:
        training += documents.document_sets()
    embedder = make_embedder(settings)
    parts = []
    for tset in training:
        with tqdm(total=len(tset.questions), desc=tset.name, unit="question") as bar:
            parts.append(examples_for(settings, tset, embedder, settings.top_k, bar.update))
    ex = Examples.concat(parts)
    typer.echo(f"{len(ex.askings)} askings, {len(ex.rel)} candidates")
    target.mkdir(parents=True, exist_ok=True)
    transformer = getattr(embedder, "transformer", None)
    how = None
    if reader and transformer is not None:
        answers = {(t.name, q.id): q.answers for t in training for q in t.questions}
        how = ReaderTraining(
            transformer,
            bool(getattr(embedder, "bfloat16", False)),
            reader_file,
            answers,
            keep=keep_reader,
            english=english_reader and english_questions,
        )
    fitted = fit(ex, false_answer_rate, log=typer.echo, reader=how)
    selector = fitted.selector
    measured = figures(fitted.table, selector.threshold)
    selector.card = {
        "model": settings.model,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sets": {t.name: {"questions": len(t.questions), "licence": t.licence} for t in training},
        "false_answer_rate": false_answer_rate,
        "cross_validated": measured,
    }
    (target / f"{stem}.selector.json").write_text(selector.to_json(), encoding="utf-8")
    (target / f"{stem}.selector.md").write_text(card.render(selector, training, time.perf_counter() - started), "utf-8")
    toml = target / f"{stem}.toml"
    if not toml.exists():
        toml.write_text(f'[selector]\nfile = "{stem}.selector.json"\n', encoding="utf-8")
    for name, f in measured.items():
        typer.echo(f"{name}: {f}")
    typer.echo(f"wrote {target / f'{stem}.selector.json'} (threshold {selector.threshold})")


LimitOpt = Annotated[int, typer.Option("--limit", min=10, max=1002, help="CMRC 2018 trial questions to ask (the first N).")]
CheckProfileOpt = Annotated[
    bool,
    typer.Option("--profile", help="Write into $DOCQA_HOME/profiles/ for the configured model (default: the bundled profile)."),
]
FloorOpt = Annotated[float, typer.Option("--floor", min=0.0, max=0.5, help="Below this confidence the LLM is not asked.")]


def calibrate_check(
    profile: CheckProfileOpt = False,
    cmrc2018: TrialOpt = None,
    limit: LimitOpt = 150,
    floor: FloorOpt = 0.01,
) -> None:
    """Calibrate DOCQA_CHECK=llm for the configured LLM, on training sets only (docs/llm.md)."""
    from tqdm import tqdm

    from docqa.answer.profile import bundled_dir, load_profile, profile_name
    from docqa.api import Settings, make_embedder
    from docqa.errors import BadRequest
    from docqa.factory import make_chat_client
    from docqa.llm.check import LLMChecker
    from docqa.train.check_fit import calibration_sets, fit, read_set, write_table

    settings = Settings(check="off")
    client = make_chat_client(settings)
    if client is None:
        raise BadRequest("calibrate-check asks the LLM it calibrates; set DOCQA_LLM_BASE_URL and DOCQA_LLM_MODEL")
    checker = LLMChecker(client, settings.llm_prompts_dir)
    client.first_token([{"role": "user", "content": "是"}])  # an LLM that cannot be reached fails here, once
    started = time.perf_counter()
    embedder = make_embedder(settings)
    own = load_profile(embedder.model_id, settings.home)
    if own.source is None:
        raise BadRequest(
            f"{embedder.model_id} has no profile of its own; train its selector first (docqa train-selector --profile)"
        )
    target = (settings.home / "profiles" if profile else bundled_dir()) / profile_name(embedder.model_id)
    readings, threshold = [], 0.0
    for tset in calibration_sets(settings, cmrc2018, limit):
        with tqdm(total=len(tset.questions), desc=tset.name, unit="question") as bar:
            got, threshold = read_set(settings, tset, embedder, checker.check, bar.update)
        readings += got
    c = fit(readings, threshold, floor, client.model)
    sets = sorted({r.set for r in readings})
    note = (
        f"The LLM's second opinion on the refusal decision (DOCQA_CHECK=llm; docs/llm.md):\n"
        f"answer when confidence_weight·logit(confidence) + opinion_weight·logit(opinion) ≥ cut.\n"
        f"Calibrated by `docqa calibrate-check` on {datetime.now(UTC):%Y-%m-%d} with {c.llm}:\n"
        f"{c.readings} askings of {', '.join(sets)}\n"
        f"(each question as asked and without its evidence);\n"
        f"logistic regression, the cut set to answer no more wrong or unanswerable askings than the\n"
        f"selector alone ({c.selector[1]}): right answers {c.selector[0]} -> {c.check[0]}."
    )
    write_table(target, Path(own.source), c.table(note))
    typer.echo(
        f"{c.readings} askings with an opinion; selector alone: {c.selector[0]} right, {c.selector[1]} wrong or "
        f"unanswerable answered; with the check: {c.check[0]} right, {c.check[1]} ({time.perf_counter() - started:.0f} s)"
    )
    typer.echo(f"confidence_weight {c.confidence_weight:.3f}, opinion_weight {c.opinion_weight:.3f}, cut {c.cut:.3f}")
    typer.echo(f"wrote the [check] table of {target}")
