"""Follow-up resolution: the history a client sends, the extractive rewriter
(pronouns, demonstratives, ellipsis, topic switches, an answer that names the
topic), the LLM rewriter and its fallback, and the engine refusing a follow-up
whose carried entity lacks the fact.  No model: the report's section titles
and jieba are all the rewriter reads."""

from __future__ import annotations

import pytest

from docqa.answer.base import Delta, Final
from docqa.conversation import Resolution, Turn, parse_history
from docqa.conversation.concepts import headed_subject, subject_in
from docqa.conversation.entities import EntityFinder
from docqa.conversation.extractive import ExtractiveRewriter
from docqa.conversation.records import UNKNOWN_REFERENT
from docqa.errors import BadRequest, LLMError
from docqa.index.tokenize import Segmenter
from docqa.question import analyse
from docqa.records import Citation
from tests.fakes import fake_engine

TITLES = [
    "构建紧密合作的创新联合体",
    "1.5 新型研发机构高质量发展",
    "上海梧桐岛生命科学研究院",
    "上海浦芯未来互联网技术研究院",
    "上海期智研究院",
    "李政道研究所",
    "硬X射线自由电子激光装置",
]
WUTONG = "上海梧桐岛生命科学研究院"
PUXIN = "上海浦芯未来互联网技术研究院"


@pytest.fixture(scope="module")
def rewriter() -> ExtractiveRewriter:
    sections = {"累计接入链主企业147家": ("1.5 新型研发机构高质量发展", PUXIN)}
    locate = lambda text: next((v for k, v in sections.items() if k in text), ())
    return ExtractiveRewriter(EntityFinder(lambda: TITLES, Segmenter()), locate)


def talk(rewriter, *turns: str) -> Resolution:
    """The last of ``turns`` asked after the others (user, assistant, user, …)."""
    history = [Turn("user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(turns[:-1])]
    return rewriter.rewrite(turns[-1], history)


# -- the history a client sends


def test_history_is_read_oldest_first_and_bounded():
    raw = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"t{i}"} for i in range(30)]
    turns = parse_history(raw)
    assert len(turns) == 12 and turns[0] == Turn("user", "t18") and turns[-1] == Turn("assistant", "t29")
    assert parse_history(None) == [] and parse_history([]) == []


@pytest.mark.parametrize(
    "history, says",
    [
        ("not a list", "history must be a list"),
        ([{"role": "system", "content": "x"}], "history[0].role"),
        ([{"role": "user"}], "history[0].content must be a string"),
        ([{"role": "user", "content": "x", "name": "me"}], "unknown field(s) name"),
        (["plain text"], "history[0] must be an object"),
        ([{"role": "user", "content": "长" * 9000}], "the limit is 8000"),
        ([{"role": "user", "content": "x"}] * 201, "send at most 200"),
    ],
)
def test_a_malformed_history_is_one_clear_error(history, says):
    with pytest.raises(BadRequest, match=None) as err:
        parse_history(history)
    assert says in str(err.value)


# -- the extractive rewriter


def test_a_first_question_and_a_standalone_one_are_not_rewritten(rewriter):
    assert rewriter.rewrite("它累计接入了多少家链主企业？", []).resolved == "它累计接入了多少家链主企业？"
    r = talk(rewriter, f"{WUTONG}主要研究哪些方向？", "围绕细胞命运调控…", "上海期智研究院与哪些企业合作？")
    assert not r.rewritten and r.carried == ()


@pytest.mark.parametrize(
    "follow_up, resolved",
    [
        ("它累计接入了多少家链主企业？", f"{WUTONG}累计接入了多少家链主企业？"),
        ("该研究院发表了多少篇论文？", f"{WUTONG}发表了多少篇论文？"),
        ("这家机构搭建了什么网络？", f"{WUTONG}搭建了什么网络？"),
        ("其主要研究方向有哪些？", f"{WUTONG}的主要研究方向有哪些？"),
        ("其在哪些期刊发表论文？", f"{WUTONG}在哪些期刊发表论文？"),
        ("还建设了什么平台？", f"{WUTONG}还建设了什么平台？"),
    ],
)
def test_a_reference_becomes_the_entity_talked_about(rewriter, follow_up, resolved):
    r = talk(rewriter, f"{WUTONG}主要研究哪些方向？", "围绕细胞命运调控新机制…[1]", follow_up)
    assert r.resolved == resolved and r.carried == (WUTONG,) and r.rewritten


def test_other_uses_of_qi_and_ta_are_left_alone(rewriter):
    for q in ("其他研究院呢有哪些？", "其中有几家在上海？"):
        assert not talk(rewriter, f"{WUTONG}主要研究哪些方向？", "…", q).rewritten


def test_ellipsis_asks_the_previous_question_about_the_new_entity(rewriter):
    r = talk(rewriter, f"{WUTONG}累计接入了多少家链主企业？", "报告中没有找到相关信息。", "那上海浦芯未来互联网技术研究院呢？")
    assert r.resolved == f"{PUXIN}累计接入了多少家链主企业？" and r.how == "ellipsis"
    r = talk(rewriter, "静安区首批链主企业有几家？", "8家[1]", "那宝山区呢？")
    assert r.resolved == "宝山区首批链主企业有几家？" and r.carried == ("宝山区",)


def test_a_follow_up_of_a_follow_up_carries_the_switched_topic(rewriter):
    r = talk(
        rewriter,
        f"{WUTONG}主要研究哪些方向？", "…",
        "那上海期智研究院呢？", "…",
        "它和哪些企业合作？",
    )  # fmt: skip
    assert r.resolved == "上海期智研究院和哪些企业合作？"


def test_the_answer_to_a_which_question_becomes_the_topic(rewriter):
    r = talk(rewriter, "哪个研究院累计接入了147家链主企业？", "累计接入链主企业147家[1]", "它的上链企业有多少家？")
    assert r.resolved == f"{PUXIN}的上链企业有多少家？"  # found through the quoted passage's section
    r = talk(rewriter, "哪个研究所在做蜘蛛系统？", "李政道研究所[1]：国际首创…", "它还启动建设了什么？")
    assert r.resolved == "李政道研究所还启动建设了什么？"


def test_a_demonstrative_for_a_group_becomes_the_noun_phrase_said_before(rewriter):
    r = talk(rewriter, "上海累计备案了多少家新型研发机构？", "累计备案上海市新型研发机构36家[1]", "对这些机构是怎么评价的？")
    assert r.resolved == "对新型研发机构是怎么评价的？" and r.how == "concept" and r.carried == ()

    # a verb that modifies the noun joins its phrase (创新/v 联合体); one before another verb does not
    r = talk(rewriter, "第二批长三角创新联合体有多少家？", "12家[1]", "这批联合体在哪些领域？")
    assert r.resolved == "长三角创新联合体在哪些领域？" and r.how == "concept"
    assert talk(rewriter, "宝山区发布了哪些创新联合体？", "…", "这些联合体有几个？").resolved == "创新联合体有几个？"


def test_a_demonstrative_points_at_a_whole_noun_where_its_phrase_ends(rewriter):
    """这个智能体 is 智能/体 to jieba: the head is both words, and 智能 inside
    上海科学智能研究院 is no phrase's end (研究院 goes on), so the entity is not cut."""
    asked = "上海科学智能研究院发布的城市多灾种早期预警智能体叫什么名字？"
    r = talk(rewriter, asked, "发布“妈祖”城市多灾种早期预警智能体[1]", "这个智能体已在多少个国家推广应用？")
    assert r.resolved == "预警智能体已在多少个国家推广应用？" and r.how == "concept"
    r = talk(rewriter, asked, "…", "这个智能体推广到了哪里？", "…", "它还开发了哪些大模型？")
    assert r.resolved == "上海科学智能研究院还开发了哪些大模型？"  # the topic is still the institute, not 上海


def test_ellipsis_of_another_number_or_ordinal_asks_the_previous_question_about_it(rewriter):
    r = talk(rewriter, "第二批长三角创新联合体中，哪家单位是化工方向的？", "上海化工研究院有限公司[1]", "第一批呢？")
    assert r.resolved == "第一批长三角创新联合体中，哪家单位是化工方向的？" and r.how == "ellipsis"
    r = talk(rewriter, "2024年度上海市科学技术奖有多少个获奖项目？", "…", "那2023年的呢？")
    assert r.resolved == "2023年度上海市科学技术奖有多少个获奖项目？"
    r = talk(rewriter, "How many projects won the 2024 Shanghai awards (2024年度上海市科学技术奖)?", "…", "And in 2023?")
    assert r.resolved == "How many projects won the 2023 Shanghai awards (2023年度上海市科学技术奖)?"
    # another tier: the new value takes the place of the whole range it is one end of
    r = talk(rewriter, "员工累计工作满10年不满20年的，年休假有几天？", "年休假10天[1]", "满20年的呢？")
    assert r.resolved == "员工累计工作满20年的，年休假有几天？"
    # a number of another shape is not the one asked about: 134个 is no year
    assert talk(rewriter, "上海有134个项目获奖吗？", "…", "2023年呢？").resolved != "上海有2023个项目获奖吗？"


def test_ellipsis_of_a_thing_of_the_same_kind_takes_the_place_of_the_one_asked_about():
    """「急诊呢？」 after a question about 副主任医师门诊: the phrase that ends in what the
    ellipsis ends in (诊, 奖学金) is replaced; the hospital and the verb before stay."""
    hospital = "江屿市中心医院"
    rewriter = ExtractiveRewriter(EntityFinder(lambda: [hospital, "霁州理工大学"], Segmenter()))
    r = talk(rewriter, f"{hospital}副主任医师门诊的诊察费是多少？", "每人次30元[1]", "急诊呢？")
    assert r.resolved == f"{hospital}急诊的诊察费是多少？" and r.how == "ellipsis"
    r = talk(rewriter, f"{hospital}急诊的诊察费是多少？", "每人次15元[1]", "夜间门诊呢？")
    assert r.resolved == f"{hospital}夜间门诊的诊察费是多少？"
    asked = "霁州理工大学申请澄明电子奖学金，GPA要达到多少？"
    assert talk(rewriter, asked, "…", "学校一等奖学金呢？").resolved == "霁州理工大学申请学校一等奖学金，GPA要达到多少？"
    assert talk(rewriter, asked, "…", "2023年呢？").resolved != "霁州理工大学申请2023年，GPA要达到多少？"
    # the shared end starts with a word that is no noun (大 of 大模型): the modifier before it goes too
    # (it had made 「通用大行业大模型通过备案奖励多少？」)
    assert talk(rewriter, "通用大模型通过备案奖励多少？", "…", "行业大模型呢？").resolved == "行业大模型通过备案奖励多少？"


def test_ellipsis_of_another_modifier_or_time_frame_takes_the_place_of_the_one_asked_about():
    """「洗涤的时候呢？」 after 「…脱水的时候噪音有多大？」 swaps the modifier of 的时候 (it had
    made 「…脱水的洗涤的时候噪音…」); 「周末呢？」 takes 工作日's place, 「白金卡呢？」 金卡's (it
    had read 「…的白金卡是什么？」); a modified item that
    only shares the end of a word (手续费, 收费) is not put in its place."""
    rewriter = ExtractiveRewriter(EntityFinder(lambda: ["滨江旗舰店"], Segmenter()))
    for previous, follow_up, resolved in (
        ("澜净WD-10脱水的时候噪音有多大？", "洗涤的时候呢？", "澜净WD-10洗涤的时候噪音有多大？"),
        ("滨江旗舰店工作日几点到几点营业？", "周末呢？", "滨江旗舰店周末几点到几点营业？"),
        ("营业时间：周一至周五几点开门？", "那周六呢？", "营业时间：周六几点开门？"),
        ("补一张金卡要多少钱？", "白金卡呢？", "补一张白金卡要多少钱？"),
    ):
        r = talk(rewriter, previous, "…", follow_up)
        assert (r.resolved, r.how) == (resolved, "ellipsis"), follow_up
    assert "冻结要银卡" not in talk(rewriter, "冻结要收费吗？", "…", "银卡冻结的手续费呢？").resolved


def test_ellipsis_of_a_time_frame_or_tier_the_previous_question_did_not_name_qualifies_it():
    """「周末呢？」 after 「东湖支行几点到几点开门？」 asks about the weekend's hours (it had read
    「东湖支行的周末是什么？」), and 「黑卡呢？」 after 「送几节私教课？」 about 黑卡's; a previous
    question that named nothing was read about the topic, which the ellipsis keeps."""
    rewriter = ExtractiveRewriter(EntityFinder(lambda: ["（二）东湖支行"], Segmenter()))
    for turns, resolved in (
        (("东湖支行几点到几点开门？", "…", "周末呢？"), "东湖支行周末几点到几点开门？"),
        (("送几节私教课？", "…", "黑卡呢？"), "黑卡送几节私教课？"),
        (("东湖支行在哪儿？", "…", "几点到几点开门？", "…", "周末呢？"), "东湖支行周末几点到几点开门？"),
    ):
        assert talk(rewriter, *turns).resolved == resolved, turns
    assert talk(rewriter, "东湖支行在哪儿？", "…", "周末呢？").resolved != "东湖支行周末在哪儿？"  # no time asked


def test_an_english_ellipsis_of_other_days_asks_the_previous_question_about_them(rewriter):
    asked = "What are the weekday opening hours of Huicheng Bank's main branch (分行营业部)?"
    r = talk(rewriter, asked, "营业时间：周一至周五 8:30—17:30[1]", "And on weekends?")
    assert r.resolved == "What are the weekends opening hours of Huicheng Bank's main branch (分行营业部)?"
    r = talk(rewriter, "What are the service hours?", "…", "And during the Spring Festival?")
    assert r.resolved == "What are the service hours during the Spring Festival?"  # no days named: qualified
    assert talk(rewriter, "What are the service hours?", "…", "What about the motor?").resolved == "What about the motor?"


def test_a_branch_heading_is_an_entity_an_ellipsis_switches_to():
    """A gym's 城北店 (three characters) heads its own section like 滨江旗舰店: 「那城北店的泳池呢？」
    asks the previous question about it (it had kept both: 「滨江旗舰店的城北店的泳池…」)."""
    rewriter = ExtractiveRewriter(EntityFinder(lambda: ["（一）滨江旗舰店", "（二）城北店", "门店"], Segmenter()))
    r = talk(rewriter, "滨江旗舰店的泳池几点开放？", "泳池开放时间：每日07:00—21:00；[1]", "那城北店的泳池呢？")
    assert r.resolved == "城北店的泳池几点开放？" and r.carried == ("城北店",)
    assert [m.kind for m in rewriter.finder.find("门店有几家？")] == []


def test_a_product_heading_makes_its_kind_word_name_the_model():
    """「（二）HD-9热泵烘干机」 heads the dryer's section: 烘干机 (and HD-9烘干机) names HD-9,
    so 「那烘干机显示E1呢？」 after questions about WD-10 asks about the dryer (it was
    left as asked and answered with the washer's E1)."""
    headings = ["澜净电器 WD-10滚筒洗衣机 / HD-9热泵烘干机", "（一）WD-10滚筒洗衣机", "（二）HD-9热泵烘干机"]
    rewriter = ExtractiveRewriter(EntityFinder(lambda: headings, Segmenter()))
    assert [(m.text, m.name) for m in rewriter.finder.find("澜净WD-10洗衣机显示E2是什么意思？")] == [("WD-10洗衣机", "WD-10")]
    asked = ("澜净WD-10洗衣机显示E1是什么意思？", "答：E1表示进水超时。[1]")
    r = talk(rewriter, *asked, "那烘干机显示E1呢？")
    assert r.resolved == "澜净HD-9烘干机显示E1是什么意思？" and r.carried == ("HD-9",)
    # a kind word two models' headings end in names neither
    rewriter = ExtractiveRewriter(EntityFinder(lambda: ["（一）QH-R800净水器", "（二）QH-R500净水器"], Segmenter()))
    assert rewriter.finder.find("净水器多久换一次滤芯？") == []


def test_a_quoted_name_is_the_topic_when_no_entity_is():
    """「最长贴几年？」 after 「澜州市“数转贷”的贴息标准是怎样的？」 (澜州市 is the documents' area,
    no topic) is read about 数转贷 when refused as it stands; after a question naming an
    organisation, a quoted name beside it (“伏羲”) does not take its place."""
    rewriter = ExtractiveRewriter(EntityFinder(lambda: ["澜州市人民政府办公室", WUTONG], Segmenter()))
    answer = "对企业通过“数转贷”获得的贷款，按…给予贴息，贴息期限不超过2年。[1]"
    r = talk(rewriter, "澜州市“数转贷”的贴息标准是怎样的？", answer, "最长贴几年？")
    assert not r.rewritten and r.fallback is not None and r.fallback.resolved == "数转贷最长贴几年？"
    assert rewriter.finder.find("“数转贷”的期限") == []  # only on request
    r = talk(rewriter, f"{WUTONG}有哪些研究方向？", "…[1]", "其中“伏羲”排第几？", "…[1]", "它发布了什么？")
    assert r.resolved == f"{WUTONG}发布了什么？"


def test_a_question_read_in_context_loses_the_so_it_starts_with():
    """「那助研一学期按几个月发？」 read in context is 「澄州大学助研…」, not 「澄州大学那助研…」;
    那边 and 那个 point at something and stay."""
    rewriter = ExtractiveRewriter(EntityFinder(lambda: ["（一）助教岗位"], Segmenter()))
    asked = ("澄州大学研究生当助教每月能拿多少？", "（一）助教岗位：每人每月800元…[1]")
    assert talk(rewriter, *asked, "那助研一学期按几个月发？").fallback.resolved == "澄州大学助研一学期按几个月发？"
    assert talk(rewriter, *asked, "那么一学期按几个月发？").fallback.resolved == "澄州大学一学期按几个月发？"
    assert talk(rewriter, *asked, "那边好停车吗").fallback.resolved == "澄州大学那边好停车吗"


def test_a_question_naming_nothing_asks_about_what_the_previous_one_went_on_with():
    """「比例是多少？」 after 「澄州大学硕士一等学业奖学金有多少钱？」 is the scholarship's ratio,
    not the university's; a verb after the entity (累计备案) is no such phrase."""
    rewriter = ExtractiveRewriter(EntityFinder(lambda: [], Segmenter()))
    asked = ("澄州大学硕士一等学业奖学金有多少钱？", "…")
    assert talk(rewriter, *asked, "比例是多少？").fallback.resolved == "澄州大学硕士一等学业奖学金比例是多少？"
    asked = ("澄州大学国家奖学金什么时候交申请？", "…")
    assert talk(rewriter, *asked, "结果公示几天？").fallback.resolved == "澄州大学国家奖学金结果公示几天？"
    assert talk(rewriter, *asked, "国家奖学金发多少？").resolved == "国家奖学金发多少？"  # says it itself
    asked = ("澄州大学硕士一等学业奖学金有多少钱？", "…")
    assert talk(rewriter, *asked, "博士的是按什么评的？").fallback.resolved == "澄州大学博士的是按什么评的？"


def test_the_phrase_goes_on_past_questions_that_do_not_say_it():
    """「每个月几号之前到账？」 after 「一年发几个月？」, itself read about 澄州大学博士助学金, is
    still about the 助学金 (it was 「澄州大学每个月…」); 每个 does not point at the entity as
    那边 does, and a closing 的 is no modifier of the question's own. A question that
    starts with another of the kind (学业奖学金) takes its place."""
    rewriter = ExtractiveRewriter(EntityFinder(lambda: [], Segmenter()))
    asked = ("澄州大学博士助学金一个月给多少？", "…", "一年发几个月？", "…")
    assert talk(rewriter, *asked, "每个月几号之前到账？").fallback.resolved == "澄州大学博士助学金每个月几号之前到账？"
    asked += ("每个月几号之前到账？", "…")
    assert talk(rewriter, *asked, "是哪个部门发的").fallback.resolved == "澄州大学博士助学金是哪个部门发的"
    asked = ("澄州大学国家奖学金什么时候交申请？", "…", "要答辩吗？讲多久", "…")
    assert talk(rewriter, *asked, "结果公示几天？").fallback.resolved == "澄州大学国家奖学金结果公示几天？"
    r = talk(rewriter, *asked, "学院研究生工作组的办公时间呢？")
    assert r.fallback is None or "国家奖学金" not in r.fallback.resolved  # a subject of its own
    after_thing = ("澄州大学国家奖学金什么时候交申请？", "…", "博士要答辩吗？", "…")
    assert talk(rewriter, *after_thing, "结果公示几天？").fallback.resolved == "澄州大学结果公示几天？"  # 博士 may be a thing
    assert talk(rewriter, *asked, "学业奖学金公示几天？").fallback.resolved == "澄州大学学业奖学金公示几天？"
    asked += ("学业奖学金公示几天？", "…")
    assert talk(rewriter, *asked, "材料交给谁？").fallback.resolved == "澄州大学学业奖学金材料交给谁？"
    asked = ("上海期智研究院的合作企业有哪些？", "…", "李政道研究所发表了多少论文？", "…")
    assert talk(rewriter, *asked, "团队有几支？").fallback.resolved == "李政道研究所团队有几支？"  # a new entity, no phrase


def test_this_measure_is_the_topic_and_its_phrase():
    """「这项政策由哪个部门负责落实？」 after questions about “数转贷” asks about 数转贷; with no
    topic entity it is left as asked (a less sure subject had it answered with the measure's
    own sentence, which names no department)."""
    rewriter = ExtractiveRewriter(EntityFinder(lambda: [], Segmenter()))
    asked = ("澜州市“数转贷”的贴息标准是怎样的？", "…", "最长贴几年？", "…")
    r = talk(rewriter, *asked, "这项政策由哪个部门负责落实？")
    assert talk(rewriter, *asked, "这项技术装了多少辆车？").resolved == "这项技术装了多少辆车？"  # another kind of thing
    assert r.resolved == "数转贷由哪个部门负责落实？" and r.carried == ("数转贷",)
    asked = ("澄州大学国家奖学金什么时候交申请？", "…")
    assert talk(rewriter, *asked, "这项奖学金归哪个部门管？").resolved == "澄州大学国家奖学金归哪个部门管？"
    assert talk(rewriter, "贴息期限最长几年？", "…贴息期限不超过2年。[1]", "这项找哪个部门？").resolved == "这项找哪个部门？"


def test_an_ellipsis_keeps_what_it_says_of_its_new_entity():
    """「那HD-9的延保呢？」 after 「（WD-10）能延长几年？」 asks about HD-9's 延保 (it was
    「HD-9能延长几年？」, answered with 「…烘干时间会明显延长」), not with the previous
    question's predicate, which may not fit it; what the previous question
    already asks about takes no such turn."""
    headings = ["（一）WD-10滚筒洗衣机", "（二）HD-9热泵烘干机", "（二）东湖支行", "（三）高新区支行"]
    rewriter = ExtractiveRewriter(EntityFinder(lambda: headings, Segmenter()))
    answer = "第三条 WD-10可在购机后90天内购买延保服务，延长整机保修期2年，价格199元。[1]"
    r = talk(rewriter, "澜净WD-10的延保服务多少钱？", answer, "能延长几年？", answer, "那HD-9的延保呢？")
    assert r.resolved == "HD-9的延保是什么？" and r.carried == ("HD-9",)
    r = talk(rewriter, "WD-10的延保能延长几年？", answer, "那HD-9的延保呢？")
    assert r.resolved == "HD-9的延保能延长几年？"
    r = talk(rewriter, "高新区支行那边好停车吗？", "…[1]", "那东湖支行的电话呢？")
    assert r.resolved == "东湖支行的电话是什么？"  # was 「东湖支行那边好停车吗」


def test_a_part_named_right_after_its_whole_is_the_topic():
    """「汇澄银行东湖支行在哪儿？」 is about the branch: 「几点到几点开门？」 asks about 东湖支行,
    not the bank (whose name the branch's passages do not repeat, so the question was refused)."""
    rewriter = ExtractiveRewriter(EntityFinder(lambda: ["（二）东湖支行", "（三）高新区支行"], Segmenter()))
    r = talk(rewriter, "汇澄银行东湖支行在哪儿？", "地址：青岚市东湖区湖滨路56号[1]", "几点到几点开门？")
    assert r.fallback is not None and r.fallback.resolved == "东湖支行几点到几点开门？"
    assert r.fallback.carried == ("东湖支行",)
    r = talk(rewriter, "汇澄银行东湖支行在哪儿？", "地址：青岚市东湖区湖滨路56号[1]", "它周日开门吗？")
    assert r.resolved == "东湖支行周日开门吗？"


def test_a_follow_up_pointing_inside_what_was_said_asks_about_the_same_subject(rewriter):
    r = talk(rewriter, f"{PUXIN}累计接入了多少家链主企业？", "累计接入链主企业147家[1]", "其中，上链企业有多少家？")
    assert r.resolved == f"{PUXIN}上链企业有多少家？" and r.carried == (PUXIN,)
    r = talk(rewriter, f"{WUTONG}有哪些研究方向？", "…", "这里面哪个方向与RNA有关？")
    assert r.resolved == f"{WUTONG}哪个方向与RNA有关？"
    assert talk(rewriter, "其中有几家？").resolved == "其中有几家？"  # nothing said before it


def test_a_courtesy_or_filler_before_a_follow_up_is_read_past(rewriter):
    r = talk(rewriter, f"{PUXIN}累计接入了多少家链主企业？", "累计接入链主企业147家[1]", "好的，还发布了什么？")
    assert r.resolved == f"{PUXIN}还发布了什么？" and r.carried == (PUXIN,)
    r = talk(rewriter, f"{PUXIN}累计接入了多少家链主企业？", "…", "请问，宝山区发布的是什么文件？")
    assert r.resolved == r.question  # a topic switch, left as asked (the analysis reads past 请问)
    r = talk(rewriter, "请问，上海期智研究院有哪些合作伙伴？", "…", "它发表了多少篇论文？")
    assert r.resolved == "上海期智研究院发表了多少篇论文？"
    answer = "答：您可以拨打青禾客服热线400-816-2290（服务时间为每天8:00至22:00）。[1]"
    r = talk(rewriter, "企业采购应该打哪个电话？", "…", "服务时间呢？", answer, "不对，我是问普通客服热线几点到几点")
    assert r.resolved == r.question and r.fallback is None  # a correction asks anew (read 「服务时间不对，我是问…」 before)


def test_it_is_the_thing_in_a_place_the_previous_question_started_with(rewriter):
    first = "长三角大飞机产业集群是靠哪些龙头企业来牵引的？"
    assert talk(rewriter, first, "…", "它们带动的是哪几条子链？").resolved == "长三角大飞机产业集群带动的是哪几条子链？"
    assert talk(rewriter, first, "…", "这个集群的年产值是多少？").resolved == "长三角大飞机产业集群的年产值是多少？"
    assert talk(rewriter, "宝山区累计组建了多少个创新联合体？", "…", "该区新备案了几个？").resolved == "宝山区新备案了几个？"
    r = talk(rewriter, "静安区首批链主企业有几家？", "…", "它新备案的创新联合体有哪些？")  # 它: the district
    assert r.resolved == "静安区新备案的创新联合体有哪些？"


def test_qizhong_after_a_question_about_a_group_asks_inside_the_group(rewriter):
    r = talk(
        rewriter, "第二批长三角创新联合体成立了多少家？", "第二批12家长三角创新联合体成立…[1]", "其中点名提到了哪几家企业？"
    )
    assert r.resolved == "第二批长三角创新联合体中点名提到了哪几家企业？"  # not 「长三角点名提到了…」
    r = talk(rewriter, "长三角创新联合体第二批一共成立了几家？", "…", "其中点名提到了哪几家企业？")
    assert r.resolved == "第二批长三角创新联合体中点名提到了哪几家企业？"  # the phrase ends at 联合体; 第二批 after it
    r = talk(rewriter, "宝山区新备案的创新联合体分别是哪些方向？", "…", "其中哪个跟量子有关？")
    assert r.resolved == "宝山区新备案的创新联合体中哪个跟量子有关？"
    r = talk(rewriter, "上海累计备案了多少家新型研发机构？", "36家[1]", "其中，有几家是企业？")
    assert r.resolved == "上海有几家是企业？"  # 上海累计备案 is no group: the entity, as before


def test_a_follow_up_about_the_previous_answer_asks_the_previous_question_again(rewriter):
    """「分别是哪两个？」 is about what was just answered, not about the entity: the
    previous question, resolved, is asked again with it."""
    r = talk(rewriter, f"{WUTONG}在几大方向开展研究？", "四大方向[1]", "分别是哪些？")
    assert r.resolved == f"{WUTONG}在几大方向开展研究，分别是哪些？" and r.carried == (WUTONG,)
    r = talk(rewriter, "第二批长三角创新联合体成立了多少家？", "12家[1]", "是哪几家？")
    assert r.resolved == "第二批长三角创新联合体成立了多少家，是哪几家？" and r.carried == ("长三角",)
    r = talk(rewriter, "How many award-winning projects were led by enterprises?", "111[1]", "What share is that?")
    assert r.resolved == "How many award-winning projects were led by enterprises? What share is that?"
    assert talk(rewriter, "分别是哪些？").resolved == "分别是哪些？"  # nothing said before it
    r = talk(rewriter, f"{WUTONG}在几大方向开展研究？", "四大方向[1]", "分别发布了什么成果？")
    assert r.resolved == f"{WUTONG}分别发布了什么成果？"  # a question of its own about the entity
    # a bare "when?" or "from how many?" asks about the fact just answered
    r = talk(rewriter, "上海市科学技术奖完成单位一共有多少家？", "686家[1]", "哪年？")
    assert r.resolved == "上海市科学技术奖完成单位一共有多少家，哪年？" and r.how == "previous"
    r = talk(rewriter, "The hybrid model ranked first among how many models?", "14个[1]", "From how many institutions?")
    assert r.resolved == "The hybrid model ranked first among how many models? From how many institutions?"


def test_another_item_in_the_previous_frame_is_asked_inside_its_scope(rewriter):
    """「光制造装备又归在哪个方向下？」 asks the previous question's frame about another
    item: inside the scope that question started with."""
    first = "宝山区新备案的创新联合体里，做菌群移植的属于哪个方向？"
    r = talk(rewriter, first, "精准医疗[1]", "光制造装备又归在哪个方向下？")
    assert r.resolved == "宝山区新备案的创新联合体里，光制造装备又归在哪个方向下？" and r.how == "scope"
    assert r.carried == ("宝山区",)
    r = talk(rewriter, "2024年度上海市科学技术奖获奖项目中，企业牵头的项目占比多少？", "58%[1]", "那多单位合作项目又占多少？")
    assert r.resolved == "2024年度上海市科学技术奖获奖项目中，多单位合作项目又占多少？" and r.carried == ("上海市",)
    r = talk(rewriter, "宝山区累计组建了多少个创新联合体？", "8个[1]", "光制造装备又归在哪个方向下？")
    assert r.resolved == "光制造装备又归在哪个方向下？"  # the previous question has no scope of its own
    r = talk(rewriter, first, "精准医疗[1]", f"{WUTONG}又在哪些方向开展研究？")
    assert r.resolved == f"{WUTONG}又在哪些方向开展研究？"  # names its own subject


def test_a_question_naming_nothing_is_also_read_in_the_conversations_context(rewriter):
    """「团队组了几支？」 is left as asked (it may stand alone); its fallback, asked
    if it is refused as it stands, is about the topic entity or inside the group
    the previous question started with."""
    r = talk(rewriter, f"{WUTONG}在几大方向开展研究？", "四大方向[1]", "正在建的是个什么平台？")
    assert r.resolved == "正在建的是个什么平台？" and r.how == ""
    wutong = Resolution("正在建的是个什么平台？", f"{WUTONG}正在建的是个什么平台？", (WUTONG,), "context", exclusive=True)
    assert r.fallback == wutong  # exclusive: about an organisation with a section of its own
    r = talk(rewriter, "第二批长三角创新联合体成立了多少家？", "12家[1]", "点名提到的企业有哪几家？")
    assert r.fallback.resolved == "第二批长三角创新联合体中点名提到的企业有哪几家？" and not r.fallback.exclusive
    assert talk(rewriter, "正在建的是个什么平台？").fallback is None  # nothing said before it
    assert talk(rewriter, f"{WUTONG}在几大方向开展研究？", "四大方向[1]", f"{PUXIN}接入了多少家链主企业？").fallback is None
    assert talk(rewriter, f"{WUTONG}在几大方向开展研究？", "四大方向[1]", "这两个区一共投了多少钱？").fallback is None
    assert talk(rewriter, f"{WUTONG}在几大方向开展研究？", "四大方向[1]", "Which platform is being built?").fallback is None
    assert talk(rewriter, f"{WUTONG}在几大方向开展研究？", "四大方向[1]", "它在建什么平台？").fallback is None  # rewritten


def test_ellipsis_of_an_item_listed_beside_the_one_asked_about(rewriter):
    listing = (
        "新备案先进制剂（小分子药物）、精准医疗（菌群移植）、智能制造（光制造装备）、量子科技（真空制备与量测）创新联合体4个[1]"
    )
    r = talk(
        rewriter,
        "宝山区新备案了几个创新联合体？",
        listing,
        "宝山区量子科技方向具体做什么？",
        "报告中没有找到相关信息。",
        "那精准医疗呢？",
    )
    assert r.resolved == "宝山区精准医疗方向具体做什么？" and r.how == "ellipsis"
    r = talk(rewriter, "宝山区先进制剂方向具体做什么？", listing, "那智能制造呢？")
    assert r.resolved == "宝山区智能制造方向具体做什么？"
    # the list's context is no item: 合作 ends 「理想汽车等合作」 but 「那腾讯呢？」 does not replace it
    r = talk(rewriter, "上海期智研究院和哪些企业开展了合作？", "与华为、腾讯、中国电信、理想汽车等合作[1]", "那腾讯呢？")
    assert "开展了腾讯" not in r.resolved


def test_the_nth_item_of_the_previous_answer_and_that_one_after_it(rewriter):
    listing = "宝山区新备案先进制剂（小分子药物）、精准医疗（菌群移植）、智能制造（光制造装备）、量子科技（真空制备与量测）创新联合体4个[1]"
    r = talk(rewriter, "宝山区这次新备案的创新联合体分别是哪些方向？", listing, "第一个是做什么的？")
    assert r.resolved == "宝山区的先进制剂是做什么的？" and r.how == "item"
    r = talk(rewriter, "宝山区这次新备案的创新联合体分别是哪些方向？", listing, "最后一个呢？")
    assert r.resolved.startswith("宝山区的量子科技")
    r = talk(rewriter, "宝山区先进制剂是做什么的？", listing, "量子科技那个呢？")  # the demonstrative after the item
    assert r.resolved == "宝山区量子科技是做什么的？" and r.how == "ellipsis"
    # no list of three in the previous answer: left as asked
    assert talk(rewriter, "宝山区有哪两个方向？", "先进制剂和精准医疗[1]", "第一个是做什么的？").how != "item"


def test_an_ellipsis_after_a_question_naming_nothing_and_the_other_one(rewriter):
    r = talk(rewriter, f"{PUXIN}累计接入了多少家链主企业？", "147家[1]", "落地了几个项目？", "…", f"换成{WUTONG}呢？")
    assert r.resolved == f"{WUTONG}落地了几个项目？" and r.carried == (WUTONG,)
    # 另外一个 is not an aspect of the entity talked about: it is left as asked
    r = talk(rewriter, "硬X射线自由电子激光装置现在进展到哪一步了？", "…", "那另外一个在建的装置呢？")
    assert r.resolved == "那另外一个在建的装置呢？" and r.fallback is None  # no second reading about the topic either
    r = talk(rewriter, f"How many papers has {WUTONG} published?", "…", "How about the other one?")
    assert r.resolved == "How about the other one?"


def test_a_word_marking_what_is_asked_about_is_read_past(rewriter):
    r = talk(rewriter, "科技体制改革里，经费支持用的是什么机制？", "…", "结果导向这块又是怎么管的？")
    assert r.resolved == "科技体制改革里，结果导向又是怎么管的？"  # 结果导向又: another item in that frame
    r = talk(rewriter, "宝山区累计组建了多少个创新联合体？", "8个[1]", "精准医疗那个具体做的是什么？")
    assert r.resolved == "精准医疗具体做的是什么？" and r.fallback.resolved == "宝山区精准医疗具体做的是什么？"
    assert talk(rewriter, "这个机构在哪些领域合作？").resolved == "这个机构在哪些领域合作？"
    r = talk(rewriter, "第二批长三角创新联合体中点名提到的企业有哪几家？", "…", "这几家里面哪家是搞半导体的？")
    assert r.resolved == "第二批长三角创新联合体中哪家是搞半导体的？"


def test_a_preposition_before_an_organisations_name_is_no_part_of_it():
    finder = EntityFinder(lambda: [], Segmenter())
    assert [m.text for m in finder.find("在江屿市中心医院做CT，报告多久能出来？")] == ["江屿市中心医院"]
    assert [m.text for m in finder.find("到东岚研究院应聘要什么条件？")] == ["东岚研究院"]
    assert [m.text for m in finder.find("在线教育有限公司成立于哪年？")] == ["在线教育有限公司"]  # 在线 is a word
    assert [m.text for m in finder.find("通过东岚研究院申请要多久？")] == ["东岚研究院"]


def test_a_way_to_reach_a_bank_is_no_bank():
    finder = EntityFinder(lambda: [], Segmenter())
    assert finder.find("用手机银行转呢？") == []  # a channel of the bank talked about, not another bank
    assert finder.find("通过网上银行办理收费吗？") == []
    r = talk(
        ExtractiveRewriter(finder),
        "在汇澄银行柜台跨行转3万块，手续费多少？",
        "…",
        "用手机银行转呢？",
        "…",
        "金卡一天最多能转多少？",
    )
    assert "手机银行" not in r.resolved  # the bank stays the topic: 手机银行 is no entity to carry


def test_an_organisations_name_ends_where_a_word_ends():
    finder = EntityFinder(lambda: [], Segmenter())
    # 企业/银行贷款: the 银行 of 银行贷款 ends no bank's name
    found = finder.find("云溪区人工智能企业银行贷款贴息，单个企业每年最高多少？")
    assert [(m.text, m.kind) for m in found] == [("云溪区", "place")]
    # 集团/股份 is jieba's 集团股份: the name goes on to 有限公司
    assert [m.text for m in finder.find("中电金信数字科技集团股份有限公司成立于哪年？")] == ["中电金信数字科技集团股份有限公司"]
    assert [m.text for m in finder.find("上海银行贷款利率是多少？")] == ["上海银行"]


def test_common_words_jieba_tags_as_places_are_no_topic():
    finder = EntityFinder(lambda: [], Segmenter())
    for question in (
        "风雀旗舰服务中心能上门修车吗？",
        "台风来了学校停课吗？",
        "深海探测器下潜了多少米？",
        "城市更新项目有几个？",
    ):
        assert [m for m in finder.find(question) if m.kind == "place"] == [], question
    assert [m.text for m in finder.find("宝山区和北京各有几家？") if m.kind == "place"] == ["宝山区", "北京"]
    rewriter = ExtractiveRewriter(finder)
    answer = "说明：提供上门维修服务，距服务中心5千米以内免收上门费。[1]"
    assert talk(rewriter, "能上门修车吗？", answer, "过节的时候呢？").resolved == "过节的时候呢？"  # was 「上门过节的时候呢？」


def test_the_listed_organisation_a_which_question_describes_is_the_topic(rewriter):
    listing = "中电金信数字科技集团股份有限公司、上海化工研究院有限公司、上海御渡半导体科技有限公司等[1]"
    r = talk(rewriter, "第二批长三角创新联合体中哪家是搞半导体的？", listing, "它是哪一年成立的？")
    assert r.resolved.startswith("上海御渡半导体科技")
    r = talk(rewriter, "第二批长三角创新联合体中点名提到了哪家企业？", listing, "它是哪一年成立的？")
    assert r.resolved.startswith("中电金信")  # none described: the first listed, as before


def test_ellipsis_of_another_quoted_name(rewriter):
    r = talk(rewriter, "上海科学智能研究院的“伏羲”在示范计划里成绩怎么样？", "综合排名第一[1]", "那“女娲”呢？")
    assert r.resolved == "上海科学智能研究院的“女娲”在示范计划里成绩怎么样？" and r.how == "ellipsis"
    assert r.swapped == (("伏羲", "女娲"),)  # what it took out and put in


def test_an_ellipsis_is_not_answered_from_the_item_it_moved_away_from(rewriter):
    """「那“女娲”呢？」 after a question about “伏羲” was answered with 「“伏羲”…综合
    排名第一」: the sentence before it lists “女娲”, which let it count as about the
    new item."""
    from docqa.conversation.extractive import _swapped

    q = analyse("上海科学智能研究院的“女娲”在示范计划里成绩怎么样？", Segmenter(), lambda w: True)
    q.swapped = [("伏羲", "女娲")]
    assert q.about_swapped_out("“伏羲”在中国气象局人工智能天气预报大模型示范计划中综合排名第一；")
    assert not q.about_swapped_out("开发“伏羲”“女娲”“燧人”等大模型；")  # names the new one too
    assert not q.about_swapped_out("“女娲”在示范计划中排名第二；")
    assert _swapped("第二批有几家？", "第一批有几家？") == ()  # one character: the batch rules read those
    assert _swapped("宝山区有几家？", "宝山有几家？") == ()  # one holds the other


@pytest.mark.parametrize(
    "follow_up, resolved, carried",
    [
        (
            "What about the Shanghai Qi Zhi Institute? How many papers has it published?",
            "How many papers has the Shanghai Qi Zhi Institute published?",
            "the Shanghai Qi Zhi Institute",  # with no glossary to name its heading
        ),
        ("那上海期智研究院呢？它发表了多少篇论文？", "上海期智研究院发表了多少篇论文？", "上海期智研究院"),
    ],
)
def test_a_switch_then_a_question_about_it_in_one_turn(rewriter, follow_up, resolved, carried):
    r = talk(rewriter, f"How many papers did {WUTONG} publish?", "10余篇[1]", follow_up)
    assert (r.resolved, r.how, r.carried) == (resolved, "switch", (carried,))


def test_english_names_and_demonstratives_of_more_kinds(rewriter):
    """ "that academy", a name going on with "for …", and an organisation named in
    lower case are what the follow-up is about (development dialogues dv3_020,
    dv4_024)."""
    first = "How many papers has the Shanghai Academy of AI for Science published in Nature?"
    r = talk(rewriter, first, "…", "What about the Wutong Island life-science institute?")
    assert r.resolved == "How many papers has the Wutong Island life-science institute published in Nature?"
    r = talk(rewriter, f"How many papers did {WUTONG} publish?", "10余篇[1]", "How many patents does that academy hold?")
    assert r.resolved == f"How many patents does {WUTONG} hold?"
    r = talk(rewriter, first, "…", "How many patents does it hold?")
    assert r.resolved == "How many patents does the Shanghai Academy of AI for Science hold?"


def test_two_questions_in_one_turn_that_switch_to_nothing_are_left_alone(rewriter):
    for follow_up in ("What? Really?", "真的吗？那是多少？", "那上海期智研究院呢？发表了多少篇论文？"):
        assert talk(rewriter, f"How many papers did {WUTONG} publish?", "10余篇[1]", follow_up).how != "switch"


def test_english_follow_ups(rewriter):
    r = talk(rewriter, f"How many chain-leader companies has {PUXIN} connected?", "147…", "How many scenarios does it have?")
    assert r.resolved == f"How many scenarios does {PUXIN} have?"
    r = talk(rewriter, "What are the research directions of the Shanghai Qi Zhi Institute?", "…", "What are its partners?")
    assert r.resolved == "What are the Shanghai Qi Zhi Institute's partners?"
    r = talk(rewriter, f"How many papers did {WUTONG} publish?", "…", "What about 上海期智研究院?")
    assert r.resolved == "How many papers did 上海期智研究院 publish?"
    r = talk(rewriter, "How many teams did 李政道研究所 form?", "…", "And how many papers did it publish?")
    assert r.resolved == "And how many papers did 李政道研究所 publish?"  # "and how…" is no ellipsis
    r = talk(rewriter, f"How many chain-leader companies has {PUXIN} connected?", "147…", "And what's the total value?")
    assert r.resolved == f"What's the total value of {PUXIN}?" and r.carried == (PUXIN,)
    r = talk(
        rewriter, "How many teams did 李政道研究所 form?", "…", "What about Baoshan (宝山区) — what guideline did it publish?"
    )
    assert r.resolved == "What guideline did Baoshan (宝山区) publish?" and r.carried == ("宝山区",)  # not "Baoshan (宝山区)"


def test_an_english_follow_up_stays_english_with_a_chinese_entity_carried_into_it(rewriter):
    """The Chinese heading a follow-up carries does not make the question Chinese
    (its refusal, its search, its analysis)."""
    from docqa import lang
    from docqa.answer.analyser import QuestionAnalyser

    r = talk(rewriter, f"Which journal has {WUTONG} published in?", "《自然》[1]", "Roughly how many papers was that?")
    assert r.resolved == f"Which journal has {WUTONG} published in? Roughly how many papers was that?"
    assert r.carried == (WUTONG,) and r.how == "previous"
    r = talk(rewriter, f"Which journal has {WUTONG} published in?", "《自然》[1]", "How many papers did it publish?")
    assert r.resolved == f"How many papers did {WUTONG} publish?" and r.carried == (WUTONG,)
    assert lang.detect(r.resolved) == "zh"  # by its characters alone
    assert QuestionAnalyser.language(r.resolved, r.carried) == "en"
    assert analyse(r.resolved, Segmenter(), lambda w: True, language="en").lang == "en"


def test_an_english_name_maps_to_the_heading_it_translates():
    from docqa.crosslingual import Glossary

    finder = EntityFinder(lambda: TITLES, Segmenter(), Glossary())
    assert finder.translate("the Shanghai Wutong Island Life Science Institute") == WUTONG
    assert finder.translate("the Beijing Quantum Institute") is None
    r = ExtractiveRewriter(finder).rewrite(
        "How many papers did it publish?",
        [Turn("user", "What does the Shanghai Wutong Island Life Science Institute study?"), Turn("assistant", "…")],
    )
    assert r.resolved == "How many papers did the Shanghai Wutong Island Life Science Institute publish?"
    assert r.carried == (WUTONG,)  # the answer must be about the heading it names


def test_a_possessive_is_no_part_of_an_english_term():
    """The rewriter writes 「AP-30's」 for "its": the term is AP-30 (「ap-30's」
    matched nothing, and the answer to 「And what's AP-30's particulate CADR?」
    was refused at 0.27 where 「…its particulate CADR?」 was answered at 0.68)."""
    from docqa.crosslingual import Glossary

    terms = [t for t, _ in Glossary().terms(f"And what's AP-30's particulate CADR? Did {WUTONG}'s team publish?")]
    assert "ap-30" in terms and not any("'" in t or t == "s" for t in terms)


def test_a_pronoun_for_the_unknown_answer_to_a_who_question_is_refused(rewriter):
    """「他们电话多少？」 after 「…材料交给谁？」 was refused (or answered naming no one
    DocQA knows) points at nothing it can tell: carried to what no text names, so
    it is refused, never read about the institute talked about before; a
    demonstrative of the kind asked for (该单位) points at the answer too, one of
    another kind (该院) still is the institute."""
    for answer in ("文档中没有找到相关信息。", "由计划财务处统一受理。[1]"):
        r = talk(rewriter, f"{WUTONG}的申请材料交给谁？", answer, "他们电话多少？")
        assert (r.resolved, r.carried, r.how, r.fallback) == ("他们电话多少？", (UNKNOWN_REFERENT,), "unknown", None)
    r = talk(
        rewriter, "上海期智研究院的合作企业里有哪家通信运营商？", "报告中没有找到相关信息。", "该院得到广泛应用的是哪种技术？"
    )
    assert r.resolved == "上海期智研究院得到广泛应用的是哪种技术？"
    assert talk(rewriter, "上海期智研究院的项目由哪个单位承建？", "…", "该单位电话多少？").carried == (UNKNOWN_REFERENT,)
    r = talk(rewriter, "哪个研究院开发了伏羲大模型？", f"{WUTONG}开发了伏羲大模型[1]", "它在哪里？")
    assert r.resolved == f"{WUTONG}在哪里？"  # an answer that names one: that is who


def test_an_ellipsis_of_a_value_and_another_thing_is_no_variant(rewriter):
    """「那30节课时包的有效期呢？」 after 「买20节的课时包打几折？」 asks another thing than the
    previous question: it had been read 「买30节的课时包打几折？」."""
    r = talk(rewriter, "买20节的课时包打几折？", "购买20节课时包享九折，有效期12个月；[1]", "那30节课时包的有效期呢？")
    assert "打几折" not in r.resolved
    assert talk(rewriter, "买20节的课时包打几折？", "…", "30节的呢？").resolved == "买30节的课时包打几折？"


def test_a_question_that_leaves_the_topic_is_read_alone(rewriter):
    """「换个问题，…」 and "Different question: …" leave the conversation's topic:
    the question is read without the marker, and 它 in the next one is not the
    entity talked about before (「它分几年兑现？」 had been read about it)."""
    r = talk(rewriter, f"{WUTONG}主要研究哪些方向？", "…", "换个问题，示范应用场景项目的补助上限是多少？")
    assert (r.resolved, r.carried) == ("示范应用场景项目的补助上限是多少？", ())
    r = talk(
        rewriter,
        f"{WUTONG}主要研究哪些方向？",
        "…",
        "换个问题，示范应用场景项目的补助上限是多少？",
        "…最高150万元。[1]",
        "它分几年兑现？",
    )
    assert WUTONG not in r.resolved
    r = talk(rewriter, f"What does the {WUTONG} study?", "…", "Different question: how much is the SMS alert service?")
    assert r.resolved == "how much is the SMS alert service?"


def test_the_organisation_a_document_is_about_is_carried_into_all_of_it():
    """A carried 汇澄银行 is what all of 「汇澄银行个人客户服务指南」 is about: its
    chapters do not repeat the name, and every follow-up had been refused."""
    from docqa.answer.candidates import candidates
    from docqa.records import Chunk, Hit, Unit

    text = "年费：100元/年。"
    units = [Unit(0, len(text) - 1, text[:-1], 0)]

    def allowed(title: str) -> bool:
        chunk = Chunk("c1", "/d/bank.txt", title, ("第三章 收费标准",), 0, len(text), None, text, units)
        q = analyse("汇澄银行金卡年费多少钱？", Segmenter(), lambda w: True)
        q.carried = ["汇澄银行"]
        spans, ok = candidates(q, [Hit(chunk, 0.03, 0.8, 3.0, rank=1)], Segmenter())
        assert spans
        return all(ok)

    assert allowed("汇澄银行个人客户服务指南") and not allowed("青岚农商银行个人客户服务指南")


def test_a_question_naming_an_office_is_not_answered_under_another_offices_heading():
    """「学院研究生工作组的办公时间呢？」 had been answered with the hours under 「第十条 受理部门：
    研究生院学生工作办公室」; the office the heading names, or none, answers."""
    from docqa.answer.candidates import candidates
    from docqa.records import Chunk, Hit, Unit

    text = "办公时间：工作日8:00—11:30。"
    units = [Unit(0, len(text) - 1, text[:-1], 0)]
    path = ("第二章 国家奖学金", "第十条 受理部门：研究生院学生工作办公室")

    def allowed(question: str) -> bool:
        chunk = Chunk("c1", "/d/rules.txt", "澄州大学研究生奖助学金实施细则", path, 0, len(text), None, text, units)
        spans, ok = candidates(
            analyse(question, Segmenter(), lambda w: True), [Hit(chunk, 0.03, 0.8, 3.0, rank=1)], Segmenter()
        )
        assert spans
        return all(ok)

    assert not allowed("学院研究生工作组的办公时间是什么？")
    assert allowed("研究生院学生工作办公室的办公时间是什么？") and allowed("办公时间是什么？")


def test_a_carried_entity_must_be_what_the_answer_is_about():
    q = analyse("宝山区首批链主企业有几家？", Segmenter(), lambda w: True)
    q.carried = ["宝山区"]
    assert not q.about_carried("构建紧密合作的创新联合体", "静安区发布链主企业创新伙伴计划，8家…成为首批链主企业")
    assert q.about_carried("构建紧密合作的创新联合体", "宝山区发布创新联合体备案工作指引2.0版")
    assert q.about_carried("宝山区", "新备案…创新联合体4个")  # the heading names it


# -- the LLM rewriter


class FakeClient:
    def __init__(self, reply: str | Exception):
        self.reply = reply
        self.messages: list[dict] = []

    def complete(self, messages, **kwargs) -> str:
        self.messages = messages
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def test_the_llm_rewrites_with_the_prompt_files_and_falls_back_when_it_cannot(rewriter):
    from docqa.llm.rewriter import LLMRewriter

    history = [Turn("user", f"{WUTONG}主要研究哪些方向？"), Turn("assistant", "围绕细胞命运调控新机制…")]
    client = FakeClient(f"改写后的独立问题：{WUTONG}累计接入了多少家链主企业？")
    r = LLMRewriter(client, rewriter).rewrite("它累计接入了多少家链主企业？", history)
    assert r.resolved == f"{WUTONG}累计接入了多少家链主企业？" and r.how == "llm" and r.carried == (WUTONG,)
    prompt = client.messages[-1]["content"]
    assert "用户：" in prompt and "追问：它累计接入了多少家链主企业？" in prompt
    for bad in (LLMError("backend down"), "第一行\n第二行", ""):
        r = LLMRewriter(FakeClient(bad), rewriter).rewrite("它累计接入了多少家链主企业？", history)
        assert r.how == "reference" and r.resolved == f"{WUTONG}累计接入了多少家链主企业？"


class ContextRewriter:
    """Leaves the question as asked, with 「梧桐岛」 + question as its fallback."""

    def rewrite(self, question, history):
        return Resolution(question, question, fallback=Resolution(question, "梧桐岛" + question, (), "context"))


class ScriptedAnswerer:
    """Answers a question naming 梧桐岛 in ``pieces`` (deltas); refuses any other."""

    def __init__(self, pieces=("答案",)):
        self.pieces, self.asked = pieces, []

    def answer(self, q, hits, refusal, min_confidence=None):
        self.asked.append(q.text)
        if "梧桐岛" not in q.text:
            yield Delta(refusal)
            yield Final(refusal, True)
            return
        yield from (Delta(p) for p in self.pieces)
        yield Final("".join(self.pieces), False)


@pytest.fixture
def context_engine(settings, tmp_path):
    engine = fake_engine(
        settings, tmp_path / "corpus", {"a.txt": "上海梧桐岛生命科学研究院\n\n加快建设核酸与大分子生物医药概念验证平台。"}
    )
    engine.rewriters = {"extractive": ContextRewriter()}
    return engine


def test_a_question_refused_as_it_stands_is_asked_in_context(context_engine):
    engine = context_engine
    engine.answerers["extractive"] = scripted = ScriptedAnswerer()
    history = [Turn("user", "梧桐岛在哪些方向开展研究？"), Turn("assistant", "四大方向")]
    events = list(engine.stream("正在建的是个什么平台？", history=history))
    assert [e.kind for e in events] == ["delta", "final"] and events[0].text == "答案"  # the refusal never shows
    answer = events[-1].answer
    assert not answer.refused and answer.question == "正在建的是个什么平台？"
    assert answer.resolved_question == "梧桐岛正在建的是个什么平台？"
    assert scripted.asked == ["正在建的是个什么平台？", "梧桐岛正在建的是个什么平台？"]
    assert engine.ask("梧桐岛建了什么平台？", history=history).resolved_question == "梧桐岛建了什么平台？"  # answered as asked


class ElsewhereAnswerer:
    """Answers a question naming no 梧桐岛 with another institute's fact, cited
    from its section; refuses one about 梧桐岛 (the fact is not there)."""

    def answer(self, q, hits, refusal, min_confidence=None):
        if "梧桐岛" in q.text:
            yield Delta(refusal)
            yield Final(refusal, True)
            return
        cited = Citation(1, "b.txt", "报告", (PUXIN,), 0, 12, None, "累计接入链主企业147家")
        yield Delta("累计接入链主企业147家[1]")
        yield Final("累计接入链主企业147家[1]", False, [cited])


@pytest.mark.parametrize("exclusive,refused", [(True, True), (False, False)])
def test_an_answer_about_another_organisation_gives_way_to_the_exclusive_reading(context_engine, exclusive, refused):
    """「接入了多少家链主企业？」 in a conversation about 梧桐岛, answered from 浦芯's section:
    about an organisation (exclusive), it is asked about 梧桐岛 and refused."""
    engine = context_engine
    engine.answerers["extractive"] = ElsewhereAnswerer()
    fallback = Resolution("接入了多少家链主企业？", "梧桐岛接入了多少家链主企业？", ("梧桐岛",), "context", exclusive=exclusive)
    engine.rewriters = {"extractive": type("R", (), {"rewrite": lambda self, q, h: Resolution(q, q, fallback=fallback)})()}
    answer = engine.ask("接入了多少家链主企业？", history=[Turn("user", "梧桐岛在哪些方向开展研究？"), Turn("assistant", "…")])
    assert answer.refused is refused


def test_an_answer_that_streams_is_not_held_back(context_engine):
    """A refusal is at most one delta: from the second on, the answer streams."""
    engine = context_engine
    engine.answerers["extractive"] = ScriptedAnswerer(("梧桐岛", "建了", "平台"))
    history = [Turn("user", "梧桐岛在哪些方向开展研究？"), Turn("assistant", "四大方向")]
    stream = engine.stream("梧桐岛建了什么平台？", history=history)
    assert [next(stream).text, next(stream).text] == ["梧桐岛", "建了"]  # before the answer is complete
    assert [e.kind for e in stream] == ["delta", "final"]


# -- the real engine over the bundled report


@pytest.mark.model
def test_the_issues_follow_up_is_refused_and_the_ellipsis_answered(report_engine):
    """After a question about 梧桐岛, 「它累计接入了多少家链主企业？」 asks 梧桐岛 for a
    figure only 浦芯 has: refused, never 147家; then 「那…浦芯…呢？」 gets 147家."""
    first = report_engine.ask(f"{WUTONG}主要研究哪些方向？")
    history = [Turn("user", first.question), Turn("assistant", first.answer)]
    trap = report_engine.ask("它累计接入了多少家链主企业？", history=history)
    assert trap.resolved_question == f"{WUTONG}累计接入了多少家链主企业？"
    assert trap.refused and "147" not in trap.answer
    history += [Turn("user", trap.question), Turn("assistant", trap.answer)]
    switch = report_engine.ask(f"那{PUXIN}呢？", history=history)
    assert switch.resolved_question == f"{PUXIN}累计接入了多少家链主企业？"
    assert not switch.refused and "147家" in switch.answer
    d = switch.to_dict()
    assert d["question"] == f"那{PUXIN}呢？" and d["resolved_question"] == switch.resolved_question


@pytest.mark.model
def test_a_district_follow_up_is_answered_only_from_that_district(report_engine):
    first = report_engine.ask("静安区首批链主企业有几家？")
    assert "8家" in first.answer
    history = [Turn("user", first.question), Turn("assistant", first.answer)]
    other = report_engine.ask("那宝山区呢？", history=history)
    assert other.resolved_question == "宝山区首批链主企业有几家？" and other.refused


def test_a_products_model_code_is_what_a_conversation_is_about(rewriter):
    """Documents of other kinds (an FAQ about products) name their subject by a
    model code: it is the topic, a question naming one stands alone, and
    「那款」 or 「两款」 points at products said before, not at the topic."""
    found = rewriter.finder.find("青禾空气净化器AP-30适合多大面积的房间？")
    assert [(m.text, m.kind) for m in found] == [("AP-30", "product")]
    first = "青禾空气净化器AP-30适合多大面积的房间？"
    r = talk(rewriter, first, "适用面积为29至50平方米。[1]", "它的滤网多久要换一次？")
    assert r.resolved == "AP-30的滤网多久要换一次？" and r.carried == ("AP-30",)
    r = talk(rewriter, first, "适用面积为29至50平方米。[1]", "How much is a replacement filter for it?")
    assert r.resolved == "How much is a replacement filter for AP-30?"
    r = talk(rewriter, first, "适用面积为29至50平方米。[1]", "青禾扫地机器人SR-9电量低于多少会自动回充？")
    assert r.resolved == "青禾扫地机器人SR-9电量低于多少会自动回充？" and r.fallback is None  # names its own
    r = talk(rewriter, "QH-R500的纯废水比是多少？", "纯废水比为2:1[1]", "那QH-R800呢？")
    assert r.resolved == "QH-R800的纯废水比是多少？"
    for pointing in ("便宜的那款能出几档水温？", "两款哪个净水流量更大？"):
        assert talk(rewriter, "QH-R500的纯废水比是多少？", "纯废水比为2:1[1]", pointing).fallback is None


def test_a_bare_question_of_price_asks_the_previous_question_again(rewriter):
    r = talk(rewriter, "QH-R500的RO反渗透滤芯多久更换一次？", "建议每24个月更换[1]", "多少钱？")
    assert r.resolved == "QH-R500的RO反渗透滤芯多久更换一次，多少钱？" and r.how == "previous"


def test_an_ellipsis_of_another_level_asks_the_previous_question_about_it(rewriter):
    r = talk(rewriter, "研究院2023年新引进的国家级高层次人才有几位？", "国家级高层次人才7人[1]", "省级的呢？")
    assert r.resolved == "研究院2023年新引进的省级高层次人才有几位？"
    r = talk(rewriter, "国家级和省级平台各有几个？", "…[1]", "市级的呢？")
    assert r.resolved != "市级和省级平台各有几个？"  # two levels asked: which one is meant is not known


def test_a_year_on_year_question_asks_about_the_figure_just_answered(rewriter):
    r = talk(rewriter, "生物医药研究所2023年的到位经费是多少？", "2023年到位经费1.78亿元[1]", "同比是增是减？变了多少？")
    assert r.resolved == "生物医药研究所2023年的到位经费是多少，同比是增是减？变了多少？" and r.how == "previous"


def test_the_area_a_documents_title_starts_with_is_named_but_never_carried():
    """澜州市, which jieba reads 澜/州市, is found where a document's title starts
    with it: a question naming it stands alone, with no reading about the
    organisation talked about before — and it becomes no topic either, since
    all of its document is about it."""
    titles = [*TITLES, "澜州市人民政府办公室", "澜州市支持中小企业数字化转型的若干措施"]
    rewriter = ExtractiveRewriter(EntityFinder(lambda: titles, Segmenter()))
    found = rewriter.finder.find("请问澜州市对企业开展数字化技能培训的，每人补贴多少？")
    assert [(m.text, m.kind) for m in found] == [("澜州市", "area")]
    r = talk(rewriter, "李政道研究所有多少人？", "现有科研人员106人[1]", "请问澜州市对企业开展数字化技能培训的，每人补贴多少？")
    assert r.fallback is None and not r.rewritten
    r = talk(rewriter, "澜州市“数转贷”的贴息标准是怎样的？", "按LPR的50%给予贴息[1]", "最长贴几年？")
    assert not r.rewritten and r.fallback.resolved == "数转贷最长贴几年？"  # the quoted name, not 澜州市


def test_a_thing_that_is_no_named_entity_is_what_a_pronoun_and_a_bare_question_are_about(rewriter):
    """年卡 names no organisation: what the question starts with and its answer
    repeats is the subject, which 「它…」 stands for, and which a question naming
    nothing is read about when it is refused as it stands (the fallback); a
    question naming a thing of its own, an ellipsis or a refused turn carries
    nothing."""
    asked, answer = "年卡多少钱一张？", "年卡售价每张300元，自购买之日起一年内有效[1]"
    r = talk(rewriter, asked, answer, "那它能退吗？")
    assert r.resolved == "那年卡能退吗？" and r.carried == () and r.how == "reference"
    r = talk(rewriter, asked, answer, "去哪里办？")
    assert not r.rewritten and r.fallback is not None
    assert r.fallback.resolved == "年卡去哪里办？" and not r.fallback.exclusive
    assert talk(rewriter, asked, answer, "次卡能用多久？").fallback is None  # names its own thing
    assert talk(rewriter, asked, answer, "次卡呢？").fallback is None
    assert not talk(rewriter, asked, "文档中没有找到相关信息。", "它能退吗？").rewritten
    assert not talk(rewriter, asked, answer, "他能退吗？").rewritten  # a person is no thing


@pytest.mark.parametrize(
    "question, answer, subject",
    [
        ("敬老卡多大年纪可以免费坐车？", "年满65周岁的老年人，可以申领敬老卡（免费）", "敬老卡"),
        ("那私有化部署一次性实施费多少钱？", "私有化部署的一次性实施费用为8万元起", "私有化部署"),
        ("哪个研究院开发了伏羲？", "上海科学智能研究院开发了伏羲", None),
        ("年卡的价格是多少？", "年卡的售价为300元", "年卡"),
        ("多少钱？", "300元", None),
    ],
)
def test_the_subject_is_the_start_of_a_question_its_answer_repeats(question, answer, subject):
    assert subject_in(question, answer) == subject


def test_the_subject_is_else_the_noun_phrase_a_question_starts_with_whose_noun_the_answer_repeats(rewriter):
    """「力行健身的金卡一年多少钱？」 answered 「金卡：3880元/年」 is about 力行健身的金卡,
    though the answer does not repeat the question's start word for word: a
    question naming nothing after it is read about that when refused as it
    stands, and 它 does not stand for it."""
    segmenter = Segmenter()
    assert headed_subject("力行健身的金卡一年多少钱？", "金卡：3880元/年", segmenter) == "力行健身的金卡"
    assert headed_subject("力行健身的金卡一年多少钱？", "每年3880元", segmenter) is None  # 金卡 is not repeated
    assert headed_subject("送几节私教课？", "送3节", segmenter) is None  # starts with a verb
    assert subject_in("敬老卡多大年纪可以免费坐车？", "可以申领敬老卡（免费）") == "敬老卡"  # read first, when it is there
    r = talk(rewriter, "力行健身的金卡一年多少钱？", "金卡：3880元/年[1]", "冻结要收费吗？")
    assert not r.rewritten and r.fallback is not None and r.fallback.resolved == "力行健身的金卡冻结要收费吗？"
    # less sure than a start repeated word for word, it is no pronoun's referent (全程马拉松关门时间 is no 它)
    assert not talk(rewriter, "力行健身的金卡一年多少钱？", "金卡：3880元/年[1]", "它能转让吗？").rewritten
