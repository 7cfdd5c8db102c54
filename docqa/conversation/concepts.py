"""Things and groups said before, rather than named entities:

- a demonstrative that points back at one (「对这些机构…」 after a question about
  新型研发机构, 「按这个办法…」 after an answer quoting the 管理办法): the noun after
  it is found in the previous turn, and the whole noun phrase it heads there
  takes the demonstrative's place;
- the group a question starts with (第二批长三角创新联合体成立了多少家？), which
  「其中…」 asks inside;
- the n-th item of the previous answer's list (「第一个是做什么的？」);
- the items listed beside one in an earlier answer (精准医疗 beside 量子科技 in
  「先进制剂、精准医疗、…、量子科技创新联合体」), which 「那精准医疗呢？」 puts in its place;
- another value of a number or ordinal the previous question holds (「第一批呢？」
  after 第二批…, "And in 2023?" after a question about 2024), or another quoted
  name (「那“女娲”呢？」 after a question about “伏羲”), put in its place;
- what a question and its answer are both about when it is no named entity
  (敬老卡 of 「敬老卡多大年纪可以免费坐车？」 answered 「…可以申领敬老卡（免费）…」), which
  「它…」 and a question naming nothing are then asked about."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from docqa import lang
from docqa.index.tokenize import Segmenter
from docqa.question.ranges import two_ended

_ZH = lang.load("zh")
_DEMONSTRATIVES = _ZH.wordset("concept_demonstratives")
_PHRASE_TAGS = _ZH.wordset("phrase_tags")
_MODIFIER_TAGS = _ZH.wordset("modifier_tags")
_GROUP_HEADS = tuple(_ZH.words["group_heads"])
_INTERROGATIVES = tuple(_ZH.words["interrogatives"])
_CLAUSES = re.compile(r"[，,；;。：:！？!?\n]")
_VALUE = re.compile(r"\d+|[一二两三四五六七八九十百]+")
_DIGITS = re.compile(r"\d")
_ORDINAL = _ZH.pattern("ordinal")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LEVEL = _ZH.pattern("admin_level")
_FRAME = _ZH.pattern("time_frame")
_TIER = _ZH.pattern("tier_item")
_ASKS_WHEN = _ZH.pattern("asks_hours")
_EN_FRAME = lang.load("en").pattern("time_frame")
_EN_FRAME_ITEM = lang.load("en").pattern("frame_ellipsis")
_QUOTED = re.compile(r"“[^“”]{1,20}”|「[^「」]{1,20}」|《[^《》]{1,30}》")
_SUBJECT_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_SUBJECT_TRAILING = "".join(_ZH.words["subject_trailing"])
_LEAD = _ZH.pattern("followup_lead")
_BRACKETED = re.compile(r"（[^（）]*）|\([^()]*\)|\[\d+\]|\*\*")
MAX_PHRASE_WORDS = 4
MAX_HEAD_WORDS = 3  # the nouns after a demonstrative read as one (智能/体)
MAX_GROUP_WORDS = 8
MIN_SHARED_CHARS = 2
RARE_VERB_INFO = 13.0  # self-information (-log p) above which a "verb" reads as part of a name
MAX_SHARED_HEAD = 4  # the longest end an ellipsis shares with the phrase it replaces that is tried first
MAX_VARIANT_CHARS = 12  # 「2023年的呢？」, "in 2023": an ellipsis, not a new question
MIN_SUBJECT_CHARS = 2
MAX_SUBJECT_CHARS = 12


def resolve_concept(question: str, earlier: Sequence[str], segmenter: Segmenter) -> str | None:
    """``question`` with its demonstrative phrase replaced by the noun phrase
    it points back at in ``earlier`` (most recent first), or None."""
    words = segmenter.coarse_words(question)
    for i, word in enumerate(words[:-1]):
        if word not in _DEMONSTRATIVES or not _is_noun(words[i + 1], segmenter):
            continue
        nouns = [words[i + 1]]  # 这个智能体: 智能/n 体/n, one noun
        for w in words[i + 2 : i + 1 + MAX_HEAD_WORDS]:
            if not _is_noun(w, segmenter):
                break
            nouns.append(w)
        for n in range(len(nouns), 0, -1):
            head = "".join(nouns[:n])
            for text in earlier:
                phrase = _phrase_ending_in(head, text, segmenter)
                if phrase and phrase != head:
                    at = question.find(word + head)
                    if at >= 0:
                        return question[:at] + phrase + question[at + len(word) + len(head) :]
    return None


def _is_noun(word: str, segmenter: Segmenter) -> bool:
    return (segmenter.tag(word) or "").startswith("n")


def _joins(word: str, following: str, segmenter: Segmenter) -> bool:
    """Whether ``word`` belongs to the noun phrase that ``following`` starts."""
    tag = segmenter.tag(word) or ""
    return tag in _PHRASE_TAGS or (tag in _MODIFIER_TAGS and _is_noun(following, segmenter))


def _word_spans(text: str, segmenter: Segmenter) -> tuple[list[str], list[tuple[int, int]]]:
    """The words of ``text`` with their places (spaces are not words)."""
    words, spans, pos = [], [], 0
    for w in segmenter.coarse_words(text):
        at = text.find(w, pos)
        if at >= 0:
            words.append(w)
            spans.append((at, at + len(w)))
            pos = at + len(w)
    return words, spans


def _phrase_ending_in(head: str, text: str, segmenter: Segmenter) -> str | None:
    """The longest noun phrase of ``text`` that ends with ``head`` — where the
    phrase ends: 智能 in 上海科学智能研究院 goes on into 研究院, so it is no head there."""
    words, spans = _word_spans(text, segmenter)
    best: str | None = None
    at = text.find(head)
    while at >= 0:
        end = at + len(head)
        inside = [j for j, (a, b) in enumerate(spans) if a < end and b > at]
        if inside:
            j, k = inside[-1], inside[0]  # the words the head ends and starts in
            following = words[j + 1] if j + 1 < len(words) else ""
            if spans[j][1] > end or not _is_noun(following, segmenter):  # 研究院 goes on; 融合了, 36家 do not
                while k > 0 and j - k + 1 < MAX_PHRASE_WORDS and _joins(words[k - 1], words[k], segmenter):
                    k -= 1
                phrase = text[min(spans[k][0], at) : end]
                if best is None or len(phrase) > len(best):
                    best = phrase
        at = text.find(head, at + 1)
    return best


def leading_group(text: str, segmenter: Segmenter, heads: bool = True) -> str | None:
    """The noun phrase ``text`` starts with when it names a group or a kind of
    thing (第二批长三角创新联合体 in 「第二批长三角创新联合体成立了多少家？」), else None;
    with ``heads`` False, any noun phrase it starts with (硕士一等学业奖学金 in
    「硕士一等学业奖学金有多少钱？」)."""
    words = segmenter.coarse_words(text)
    end = 0
    for i, word in enumerate(words[:MAX_GROUP_WORDS]):
        following = words[i + 1] if i + 1 < len(words) else ""
        tag = segmenter.tag(word)
        if _nounish(word, segmenter):
            end = i + 1
        elif tag == "m" and not word.startswith(_INTERROGATIVES) and _nounish(following, segmenter):
            continue  # 第二批, 首批
        elif tag == "uj" and end == i:
            continue  # 新备案的创新联合体
        elif not _joins(word, following, segmenter):
            break
    while heads and end and not "".join(words[:end]).endswith(_GROUP_HEADS):
        end -= 1  # 长三角创新联合体 of 长三角创新联合体第二批一共…: the phrase ends at its last head
    if not end:
        return None
    phrase = "".join(words[:end])
    after = words[end] if end < len(words) else ""
    if segmenter.tag(after) == "m" and _ORDINAL.match(after):
        phrase = after + phrase  # 长三角创新联合体第二批 is 第二批长三角创新联合体
    return phrase


def sibling_in(question: str, item: str, answers: Iterable[str]) -> str | None:
    """``question`` asking about ``item`` instead of the item listed beside it in
    one of ``answers`` (most recent first) that ``question`` names, or None."""
    for answer in answers:
        for items in _lists(answer):
            listed = next((i for i in items if i.startswith(item) or i.endswith(item)), None) if len(items) > 1 else None
            if listed is None:
                continue
            shared = max((_core(k, other, len(items), question) for k, other in enumerate(items) if other != listed), key=len)
            if len(shared) >= MIN_SHARED_CHARS:
                return question.replace(shared, item, 1)
    return None


def listed_item(answer: str, n: int) -> str | None:
    """The ``n``-th item (from 0; -1 the last) of the first list of three or
    more items in ``answer``, by its own name: the first and the last item
    carry the list's context (「新备案先进制剂」, 「量子科技创新联合体4个」), so
    they are cut to the length of the longest middle one."""
    for items in _lists(answer):
        if len(items) < 3 or not -len(items) <= n < len(items):
            continue
        size = max(len(i) for i in items[1:-1])
        item = items[n]
        if n == 0 and len(item) > size:
            item = item[-size:]
        elif n in (-1, len(items) - 1) and len(item) > size:
            item = item[:size]
        return item or None
    return None


def _lists(answer: str) -> Iterator[list[str]]:
    """The 、-separated items of each clause of ``answer``, brackets left out."""
    for clause in _CLAUSES.split(_BRACKETED.sub("", answer)):
        yield [i.strip() for i in clause.split("、")]


def _nounish(word: str, segmenter: Segmenter) -> bool:
    tag = segmenter.tag(word)
    return bool(word) and (tag is None or tag in _PHRASE_TAGS)


def _core(k: int, item: str, n: int, question: str) -> str:
    """The longest part of the ``k``-th of ``n`` listed items that ``question``
    holds, where the item's own name is: the end of the first item and the start
    of the last, which carry the list's context (「新备案先进制剂」, 「量子科技创新联合体4个」);
    a middle item whole."""
    if 0 < k < n - 1:
        return item if item in question else ""
    for size in range(len(item), 0, -1):
        part = item[-size:] if k == 0 else item[:size]
        if part in question:
            return part
    return ""


def frame_variant_in(question: str, item: str) -> str | None:
    """An English ``question`` asked of the days or time of day ``item`` names
    ("And on weekends?" after "What are the weekday opening hours of …?": the
    weekend's), or None when ``item`` names anything else.  The one class the
    question named gives way; a question that named none is qualified."""
    if not _EN_FRAME_ITEM.fullmatch(item.strip()):
        return None
    new = _EN_FRAME.search(item)
    said = {m.group().lower() for m in _EN_FRAME.finditer(question)}
    if len(said) > 1 or new is None:
        return None
    if said:
        return _EN_FRAME.sub(new.group(), question, count=1)
    body = question.rstrip().rstrip("?？.")
    return f"{body} {item.strip()}?"


def variant_in(question: str, item: str, subject_end: int = 0) -> str | None:
    """``question`` about ``item`` where it holds another value of the same
    shape (第二批 for 第一批, 2024 for "in 2023", “女娲” for the one quoted name
    “伏羲”, 省级 for 国家级, 周末 for 工作日, 白金卡 for 金卡), or None.  A time
    frame or a tier the question holds none of is put after its subject (which
    ends at ``subject_end``): 「周末呢？」 after 「东湖支行几点到几点开门？」 asks
    「东湖支行周末几点到几点开门？」, 「黑卡呢？」 after 「送几节私教课？」 asks
    「黑卡送几节私教课？」."""
    level = _LEVEL.fullmatch(item.removesuffix("的"))
    if level:  # 「省级的呢？」 after 国家级
        others = [m.group() for m in _LEVEL.finditer(question) if m.group() != level.group()]
        return question.replace(others[0], level.group(), 1) if len(set(others)) == 1 else None
    for pattern, holds in ((_FRAME, _ASKS_WHEN), (_TIER, None)):
        value = pattern.fullmatch(item.removesuffix("的"))
        if value:  # 「周末呢？」 after 「…工作日几点到几点营业？」, 「白金卡呢？」 after 「补一张金卡…」
            said = [m.group() for m in pattern.finditer(question)]
            others = [v for v in said if v != value.group()]
            if not said and (holds is None or holds.search(question)):
                return question[:subject_end] + value.group() + question[subject_end:]
            return question.replace(others[0], value.group(), 1) if len(set(others)) == 1 else None
    if _QUOTED.fullmatch(item):
        quoted = [m.group() for m in _QUOTED.finditer(question) if m.group()[0] == item[0]]
        return question.replace(quoted[0], item) if len(quoted) == 1 and quoted[0] != item else None
    value = _VALUE.search(item)
    if value is None or len(item) > MAX_VARIANT_CHARS:
        return None
    aspect = item.rsplit("的", 1)[1] if "的" in item[value.end() :] else ""
    if aspect and aspect not in question:
        return None  # 「那30节课时包的有效期呢？」 after 「买20节的课时包打几折？」 asks another thing
    before = _HAN.search(item[: value.start()][-1:]) if value.start() else None
    after = _HAN.match(item[value.end() :])
    digits = value.group().isdigit()
    shape = (
        re.escape(before.group() if before else "")
        + (rf"(?<!\d)\d{{{len(value.group())}}}(?!\d)" if digits else "[一二两三四五六七八九十百]+")
        + re.escape(after.group() if after else "")
    )
    if not (before or after or digits):
        return None  # a bare Chinese numeral matches too much
    new = (before.group() if before else "") + value.group() + (after.group() if after else "")
    for old in re.finditer(shape, question):
        if old.group() != new:
            # 「满20年的呢？」 after 「…满10年不满20年的…」: the new value takes the whole range's place
            within = next(((a, b) for a, b in two_ended(question) if a <= old.start() and old.end() <= b), None)
            if within is not None:
                return question[: within[0]] + new + question[within[1] :]
            return question.replace(old.group(), new)
    return None


def analogue_in(question: str, item: str, segmenter: Segmenter, kept: Sequence[tuple[int, int]] = ()) -> str | None:
    """``question`` about ``item`` in place of the noun phrase of the same kind
    it holds, the one ending in the longest end ``item`` shares with it
    (「省政府奖学金呢？」 after 「…申请国家奖学金，GPA要达到多少？」; 急诊 for
    副主任医师门诊, 神经内科 for 神经外科), or None.  The phrase ends where a word
    ends, and starts after any of the ``kept`` spans (the names the question
    holds: 江屿市中心医院 of 「江屿市中心医院副主任医师门诊…」 stays)."""
    item = item.removesuffix("的")
    if len(item) < 2 or not _HAN.match(item[-1]) or _DIGITS.search(item) or _LEVEL.fullmatch(item):
        return None
    words, spans = _word_spans(question, segmenter)
    ends = {b: j for j, (_, b) in enumerate(spans)}
    if "的" in item:  # 「洗涤的时候呢？」: another modifier of the same head (脱水的时候), or nothing
        return _modified_in(question, item, words, spans, ends, segmenter, kept)
    for size in range(min(len(item), MAX_SHARED_HEAD), 0, -1):
        found = set()
        at = question.find(item[-size:])
        while at >= 0:
            end = at + size
            j = ends.get(end)
            if j is not None and _named_part(words[j], segmenter) and len(words[j]) > 1:
                phrase = _phrase_start(j, words, spans, kept, segmenter)
                # 通用大模型 for 行业大模型: a modifier before a shared end that is no noun
                start = _modified_from(at, words, spans, kept, segmenter) if phrase > at and size < len(item) else phrase
                if start is not None and start <= at and question[start:end] != item and item not in question:
                    found.add((start, end))
            at = question.find(item[-size:], at + 1)
        if len(found) == 1:
            ((start, end),) = found
            return question[:start] + item + question[end:]
        if found:
            return None  # 「市级的呢？」 after 「国家级和省级平台…」: which one is meant is not known
    return None


def _modified_in(
    question: str,
    item: str,
    words: list[str],
    spans: list[tuple[int, int]],
    ends: dict[int, int],
    segmenter: Segmenter,
    kept: Sequence[tuple[int, int]],
) -> str | None:
    """``question`` with ``item`` (a modifier, 的, a head: 洗涤的时候) in place of
    the phrase that modifies the same head (脱水的时候 of 「WD-10脱水的时候噪音有多
    大？」): the word before its 的 and the nouns before that, not into a name
    the question holds (WD-10 stays), or None.  A modified item that shares
    only the end of a word (「银卡冻结的手续费呢？」 after 「冻结要收费吗？」) is none:
    put in place of 收费 it made 「冻结要银卡冻结的手续费吗？」."""
    head = item.rsplit("的", 1)[1]
    if not head:
        return None
    found = set()
    at = question.find("的" + head)
    while at >= 0:
        j, end = ends.get(at), at + 1 + len(head)
        if j is not None and end in ends:  # a word ends before the 的, and the head ends one
            start = _phrase_start(j, words, spans, kept, segmenter)
            if start < at and question[start:end] != item:
                found.add((start, end))
        at = question.find("的" + head, at + 1)
    if len(found) != 1:
        return None
    ((start, end),) = found
    return question[:start] + item + question[end:]


def _modified_from(
    at: int, words: list[str], spans: list[tuple[int, int]], kept: Sequence[tuple[int, int]], segmenter: Segmenter
) -> int | None:
    """Where the phrase starts whose shared end begins at ``at`` with a word that
    is no noun (大 of 通用大模型): the word before it, when that one modifies what
    follows (通用, replaced by the ellipsis's own 行业), else ``at``; None when
    ``at`` is no word's start (the phrase is not taken)."""
    starts = {a: i for i, (a, _) in enumerate(spans)}
    i = starts.get(at)
    if i is None:
        return None
    if i == 0 or spans[i - 1][1] != at or any(a < at and b > spans[i - 1][0] for a, b in kept):
        return at
    before = words[i - 1]
    modifies = _nounish(before, segmenter) or segmenter.tag(before) in _MODIFIER_TAGS
    return spans[i - 1][0] if modifies and _HAN.match(before) else at


def _phrase_start(
    j: int, words: list[str], spans: list[tuple[int, int]], kept: Sequence[tuple[int, int]], segmenter: Segmenter
) -> int:
    """Where the phrase ending in word ``j`` starts: back over the nouns before it
    (not a verb: 申请 of 申请国家奖学金 stays), up to MAX_PHRASE_WORDS words, and
    not into any of the ``kept`` spans (a name the question holds)."""
    k = j
    while k > 0 and j - k + 1 < MAX_PHRASE_WORDS and _named_part(words[k - 1], segmenter):
        k -= 1
    return max([spans[k][0], *(b for a, b in kept if a < spans[j][1] and b > spans[k][0])])


def _named_part(word: str, segmenter: Segmenter) -> bool:
    """A word that can be part of a thing's name: a noun (or a word jieba does
    not know), or a word its dictionary calls a verb but rarely sees (急诊,
    澄明 of 澄明电子奖学金), where a common verb (申请) is not."""
    if _nounish(word, segmenter):
        return True
    info = segmenter.informativeness(word)
    return (segmenter.tag(word) or "").startswith("v") and info is not None and info >= RARE_VERB_INFO


def subject_in(question: str, answer: str) -> str | None:
    """What ``question`` and its ``answer`` are both about, when it is what the
    question starts with: the longest start of the question that the answer
    repeats word for word (敬老卡 of 「敬老卡多大年纪可以免费坐车？」 answered
    「…可以申领敬老卡（免费）…」; 私有化部署 of 「私有化部署一次性实施费多少钱？」), of
    Chinese characters, letters and digits only, or None."""
    text = _LEAD.sub("", question)
    size = 0
    while size < min(len(text), MAX_SUBJECT_CHARS) and _SUBJECT_CHAR.match(text[size]) and text[: size + 1] in answer:
        size += 1
    subject = text[:size].rstrip(_SUBJECT_TRAILING)
    if len(subject) < MIN_SUBJECT_CHARS or not _HAN.search(subject) or subject.startswith(_INTERROGATIVES):
        return None
    return subject


def headed_subject(question: str, answer: str, segmenter: Segmenter) -> str | None:
    """Less surely than ``subject_in``, what ``question`` and its ``answer`` are
    about: the noun phrase the question starts with (nouns, the verbs and
    adjectives that modify them — 健身 of 力行健身的金卡 — and 的), when the answer
    repeats the noun it ends in (力行健身的金卡 of 「力行健身的金卡一年多少钱？」
    answered 「金卡：3880元/年」), or None."""
    words = segmenter.coarse_words(_LEAD.sub("", question))
    end = 0  # words[:end] end in a noun
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if _nounish(word, segmenter) and _SUBJECT_CHAR.match(word[0]):
            end = i + 1
        elif not (
            (word == "的" and i and _nounish(following, segmenter))
            or (segmenter.tag(word) in _MODIFIER_TAGS and (following == "的" or _nounish(following, segmenter)))
        ):
            break  # the phrase goes on over a modifier, or 的 before the noun it modifies, only
    phrase, head = "".join(words[:end]), words[end - 1] if end else ""
    if len(head) < MIN_SUBJECT_CHARS or head not in answer or len(phrase) > MAX_SUBJECT_CHARS:
        return None
    if not _HAN.search(phrase) or phrase.startswith(_INTERROGATIVES):
        return None
    return phrase


def starts_with_noun(question: str, segmenter: Segmenter) -> bool:
    """Whether ``question`` (past 那, 还有…) starts by naming a thing (票量包能用多久？),
    rather than with a verb or an adverb (交付要多长时间？, 迁移支持导入什么格式？)."""
    words = segmenter.coarse_words(_LEAD.sub("", question))
    return bool(words) and _nounish(words[0], segmenter)
