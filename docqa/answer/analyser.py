"""Question analysis bound to one index: what a question asks, read against
the vocabulary and the section headings of the documents it is asked of."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from docqa.crosslingual import Glossary, load_pinyin
from docqa.index.tokenize import Segmenter
from docqa.question import Question, analyse, normalize, organisation_headings
from docqa.records import Hit
from docqa.text import HAN_CHAR


class QuestionAnalyser:
    """``analyse(question, hits)`` -> ``Question``.  ``known(term)`` says whether
    the corpus has a search term; ``section_titles`` are the documents' section
    headings (organisation headings are read from them once, when first needed);
    ``glossary`` translates English question words (None: no translation)."""

    def __init__(
        self,
        segmenter: Segmenter,
        known: Callable[[str], bool],
        section_titles: Callable[[], Iterable[str]],
        glossary: Glossary | None = None,
    ):
        self.segmenter = segmenter
        self.known = known
        self.glossary = glossary
        self._section_titles = section_titles
        self._organisations: list[tuple[str, ...]] | None = None

    @property
    def organisations(self) -> list[tuple[str, ...]]:
        """The organisations heading sections of the indexed documents."""
        if self._organisations is None:
            self._organisations = organisation_headings(self._section_titles(), self.segmenter)
        return self._organisations

    def analyse(self, question: str, hits: list[Hit], carried: Sequence[str] = ()) -> Question:
        """``carried``: entities a follow-up took from the conversation; the
        answer must be about one of them (names the documents do not spell
        that way, such as an English name, are not required)."""
        contexts = [normalize(h.chunk.heading + h.chunk.embed_text()) for h in hits]
        q = analyse(question, self.segmenter, self.known, contexts, self.glossary, self.organisations)
        q.carried = [c for c in map(normalize, carried) if HAN_CHAR.search(c)]
        return q

    def warmup(self) -> None:
        """Load what the first question would otherwise wait for: jieba's
        dictionaries, the organisation headings and the English glossary."""
        self.segmenter.coarse_words("预热")
        self.segmenter.tag("预热")
        _ = self.organisations
        if self.glossary is not None:
            self.glossary.lookup("warm-up")
            load_pinyin()  # pinyin names in English questions (a few seconds, once)
