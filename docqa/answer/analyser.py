"""Question analysis bound to one index: what a question asks, read against
the vocabulary and the section headings of the documents it is asked of."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence

from docqa import lang
from docqa.crosslingual import Glossary, PinyinVocabulary, load_pinyin
from docqa.index.tokenize import Segmenter
from docqa.question import Question, analyse, normalize, organisation_headings, without_preamble
from docqa.records import Hit, SearchQuery
from docqa.text import HAN_CHAR

TRANSLATIONS_SEARCHED = 3  # a word's first dictionary translations that BM25 reads


class QuestionAnalyser:
    """``analyse(question, hits)`` -> ``Question``.  ``known(term)`` says whether
    the corpus has a search term; ``section_titles`` are the documents' section
    headings (organisation headings are read from them once, when first needed);
    ``glossary`` translates English question words (None: no translation);
    ``vocabulary`` gives the index's search terms with their document
    frequencies (for the Chinese names an English question spells in pinyin)."""

    def __init__(
        self,
        segmenter: Segmenter,
        known: Callable[[str], bool],
        section_titles: Callable[[], Iterable[str]],
        glossary: Glossary | None = None,
        vocabulary: Callable[[], Mapping[str, int]] = dict,
    ):
        self.segmenter = segmenter
        self.known = known
        self.glossary = glossary
        self._section_titles = section_titles
        self._vocabulary = vocabulary
        self._organisations: list[tuple[str, ...]] | None = None
        self._pinyin: PinyinVocabulary | None = None
        self._lock = threading.Lock()

    @property
    def organisations(self) -> list[tuple[str, ...]]:
        """The organisations heading sections of the indexed documents."""
        if self._organisations is None:
            self._organisations = organisation_headings(self._section_titles(), self.segmenter)
        return self._organisations

    @property
    def pinyin(self) -> PinyinVocabulary:
        """The index's words by pinyin, built when first needed."""
        if self._pinyin is None:
            with self._lock:
                if self._pinyin is None:
                    self._pinyin = PinyinVocabulary(self._vocabulary())
        return self._pinyin

    @staticmethod
    def language(question: str, carried: Sequence[str] = ()) -> str:
        """The question's language, without the entities a follow-up carried
        into it: 「How many papers was 上海梧桐岛生命科学研究院?」 is still English."""
        for name in carried:
            question = question.replace(name, " ")
        return lang.detect(question)

    def search_query(self, question: str, carried: Sequence[str] = ()) -> SearchQuery:
        """What to search for ``question``.  A Chinese question is searched as
        it is.  An English one is searched in Chinese too: BM25 reads, beside
        its own words, the first dictionary translations of each word that the
        index holds and the index words its names spell in pinyin; the dense
        query gets those names in parentheses, as a user pastes a name."""
        question = without_preamble(question)
        if self.glossary is None or self.language(question, carried) != "en":
            return SearchQuery(question)
        terms = self.segmenter.terms(question)
        for _, candidates in self.glossary.terms(question):
            searchable = [p for p in map(self.segmenter.terms, candidates) if p and all(map(self.known, p))]
            terms += [t for parts in searchable[:TRANSLATIONS_SEARCHED] for t in parts]
        names = [n for n in self.pinyin.find(question) if n not in question]
        terms += names
        text = f"{question} ({'、'.join(names)})" if names else question
        return SearchQuery(text, tuple(terms))

    def analyse(
        self, question: str, hits: list[Hit], carried: Sequence[str] = (), swapped: Sequence[tuple[str, str]] = ()
    ) -> Question:
        """``carried``: entities a follow-up took from the conversation; the
        answer must be about one of them (names the documents do not spell
        that way, such as an English name, are not required).  ``swapped``:
        what an elliptical follow-up put in place of what (Resolution)."""
        question = without_preamble(question)  # 请问，… asks what follows it
        contexts = [normalize(h.chunk.heading + h.chunk.embed_text()) for h in hits]
        language = self.language(question, carried)
        q = analyse(question, self.segmenter, self.known, contexts, self.glossary, self.organisations, language)
        q.carried = [c for c in map(normalize, carried) if HAN_CHAR.search(c)]
        pairs = [(normalize(old), normalize(new)) for old, new in swapped]
        q.swapped = [(old, new) for old, new in pairs if HAN_CHAR.search(old) and HAN_CHAR.search(new)]
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
            _ = self.pinyin
