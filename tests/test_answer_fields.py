"""A labelled line answers a question that asks for what its label names (fields.py)."""

from __future__ import annotations

import pytest

from docqa.answer.candidates import candidates
from docqa.answer.fields import field_answer
from tests.fakes import fake_engine

GUIDE = (
    "汇澄银行个人客户服务指南\n\n"
    "第二章 营业网点\n\n"
    "（一）东湖支行\n地址：青岚市东湖区湖滨路56号\n营业时间：周一至周五 9:00—17:00；周日休息\n"
    "联系电话：0796-88452300\n说明：支行设有贵宾理财室。\n"
    "理财室开放时间：周六 9:00—12:00\n\n"
    "（二）高新区支行\n地址：青岚市高新区科创大道1201号\n营业时间：周一至周五 9:00—17:00；周六、周日 10:00—16:00\n"
    "联系电话：0796-88617800\n\n"
    "第六章 客服热线\n\n"
    "本行服务热线如下：\n客服热线：400-655-8800（7×24小时人工服务）\n白金卡专线：400-655-8801（专属客服）\n\n"
    "第五章 技术参数\n\n"
    "（一）EB-30 城市通勤款\n整车质量：48千克（含电池）\n最高车速：25千米/小时\n续航里程：约55千米\n充电时间：6—8小时\n"
    "整车颜色：珍珠白、雾霾蓝\n\n"
    "（二）LX-5 长续航款\n整车质量：54千克（含电池）\n最高车速：25千米/小时\n续航里程：约100千米\n充电时间：7—9小时\n\n"
    "第六章 办税服务厅\n\n"
    "服务厅：松溪区办税服务厅，地址：云岭市松溪区西湖路120号1楼，办公时间：工作日9:00—17:00\n"
    "服务厅：南湾区办税服务厅，地址：云岭市南湾区锦绣大街67号，办公时间：工作日9:00—12:00\n\n"
    "第七章 配件价格\n\n"
    "EB-30座垫：89元\nLX-5充电器：259元\nEB-30标准充电器：159元\nLX-5电池（以旧换新）：1899元\n\n"
    "第八章 装修押金\n\n"
    "房屋类型：多层住宅，装修押金：2000元，装修垃圾清运费：8元/平方米\n"
    "房屋类型：联排别墅，装修押金：10000元，装修垃圾清运费：15元/平方米\n\n"
    "第九章 自费疫苗\n\n"
    "疫苗名称：13价肺炎球菌结合疫苗，适用人群：6周龄—5岁，每剂价格：698元\n"
    "疫苗名称：23价肺炎球菌多糖疫苗，适用人群：2岁及以上，每剂价格：268元\n\n"
    "第十章 会员礼遇\n\n"
    "第二十条 “澄会”会员分为银卡、金卡两个等级：\n\n"
    "等级：银卡，延迟退房：至13:00\n等级：金卡，延迟退房：至14:00\n\n"
    "第十一章 年休假\n\n"
    "累计工作年限：满1年不满10年，年休假：5天\n累计工作年限：满10年不满20年，年休假：10天\n\n"
    "第十二章 奖学金\n\n"
    "（一）硕士一等奖学金：课程加权平均分85分以上；\n（二）硕士二等奖学金：课程加权平均分80分以上。\n\n"
    "第十三章 研究生国家奖学金\n\n"
    "（一）个人申请：每年9月15日至9月25日，申请人向学院提交《研究生国家奖学金申请审批表》；\n"
    "（二）助教岗位：每人每月800元，由研究生院统一聘任。\n\n"
    "第十四章 沿革\n\n"
    "澄会（英语：Cheng Club）是汇澄银行的会员组织，成立于2001年，为客户提供礼遇。\n"
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from docqa.settings import Settings

    home = tmp_path_factory.mktemp("home")
    return fake_engine(Settings(home=home, top_k=8), home / "corpus", {"bank.txt": GUIDE})


def field(engine, question: str) -> str | None:
    """The text of the sentences the field rule answers with."""
    q, hits = engine.inspect(question)
    spans, allowed = candidates(q, hits, engine.answerers["extractive"].segmenter)
    found = field_answer(q, spans, allowed)
    return found.text if found else None


@pytest.mark.parametrize(
    "question, line",
    [
        ("汇澄银行东湖支行在哪儿？", "地址：青岚市东湖区湖滨路56号"),
        ("高新区支行电话多少", "联系电话：0796-88617800"),
        ("东湖支行几点到几点营业？", "营业时间：周一至周五 9:00—17:00；周日休息"),  # no day asked: the whole line
        (
            "汇澄银行客服电话是多少？",
            "客服热线：400-655-8800（7×24小时人工服务）",
        ),  # the label repeats 客服; 白金卡专线 does not
        ("东湖支行工作日几点开门？", "营业时间：周一至周五 9:00—17:00；"),  # 开门 asks; 工作日 agrees with 周一至周五
        ("东湖支行的理财室周六几点开放？", "理财室开放时间：周六 9:00—12:00"),  # the label's 理财室 is asked
        ("高新区支行周末几点开门？", "周六、周日 10:00—16:00"),  # the line's label holds after its semicolon
        ("汇澄银行EB-30的座垫多少钱？", "EB-30座垫：89元"),  # the label is the item the question names
        ("LX-5的电池多少钱？", "LX-5电池（以旧换新）：1899元"),  # what the label adds in brackets qualifies it
        ("EB-30充满电能跑多远？", "续航里程：约55千米"),  # a model's specification, asked in a user's words
        ("LX-5充满要多久", "充电时间：7—9小时"),
        ("LX-5有多重？", "整车质量：54千克（含电池）"),
        ("EB-30最快能跑多快？", "最高车速：25千米/小时"),
        ("EB-30有哪些颜色？", "整车颜色：珍珠白、雾霾蓝"),
        ("松溪区办税服务厅在哪儿？", "地址：云岭市松溪区西湖路120号1楼"),  # a table row's cell: the row names the hall
        ("南湾区办税服务厅几点到几点办公？", "办公时间：工作日9:00—12:00"),
        # English questions: their words' Chinese translations, or the Chinese in brackets after them
        ("What is the address of the Donghu branch?", "地址：青岚市东湖区湖滨路56号"),
        ("What is the phone number of Huicheng Bank's Gaoxin branch (高新区支行)?", "联系电话：0796-88617800"),
        ("What are the weekend opening hours of the Gaoxin branch (高新区支行)?", "周六、周日 10:00—16:00"),
        ("How heavy is the LX-5?", "整车质量：54千克（含电池）"),
        ("What's the top speed of the EB-30?", "最高车速：25千米/小时"),
        ("How much is the standard charger (标准充电器) for the EB-30?", "EB-30标准充电器：159元"),
        # a table's column the question names, of the one row that names the rest
        ("别墅装修押金交多少？", "装修押金：10000元"),
        ("多层住宅的装修垃圾清运费怎么收？", "装修垃圾清运费：8元/平方米"),
        ("宝宝打13价肺炎疫苗，一针多少钱？", "每剂价格：698元"),  # who asks (宝宝) and per what (一针) name nothing
        ("我是澄会金卡，退房最晚能拖到几点？", "延迟退房：至14:00"),  # the line over the rows names 澄会
        ("我工作12年了，年休假有几天？", "年休假：10天"),  # the row's range holds the 12 years stated
        # what a value goes on to mention (《研究生国家奖学金申请审批表》) states nothing of it; 时候 of
        # 什么时候, how often (每月) and 能拿 stand between the column's word and the asking word
        (
            "国家奖学金什么时候交申请？",
            "（一）个人申请：每年9月15日至9月25日，申请人向学院提交《研究生国家奖学金申请审批表》；",
        ),
        ("研究生当助教每月能拿多少？", "（二）助教岗位：每人每月800元，由研究生院统一聘任。"),
    ],
)
def test_a_labelled_line_gives_what_the_question_asks_for(engine, question, line):
    assert field(engine, question) == line


@pytest.mark.parametrize(
    "question",
    [
        "汇澄银行南湖支行在哪儿？",  # no such branch: nothing names 南湖支行
        "汇澄银行支行在哪儿？",  # two branches, two addresses: which one?
        "东湖支行的贵宾理财室在哪儿？",  # the address is the branch's, not the room's
        "东湖支行有贵宾理财室吗？",  # asks for no field
        "东湖支行周末几点开门？",  # the branch's line gives weekdays; the other line is the room's
        "汇澄银行投诉电话是多少？",  # no label says 投诉
        "充电器多少钱？",  # which one?
        "EB-30的车把多少钱？",  # no line names 车把
        "充满电能跑多远？",  # names no model: which line is not known, even when one is found
        "LX-5有哪些颜色？",  # its section gives none
        "EB-30的电池有多重？",  # the weight is the bike's, not its battery's
        "Where is the Nanhu branch?",  # no heading names 南湖; an address's 南湖区 is no branch
        "What is the complaints hotline of Huicheng Bank?",  # no label says 投诉
        "How far can it go on a full charge?",  # names no model
        "办税服务厅在哪儿？",  # two rows, two addresses
        "北岸区办税服务厅在哪儿？",  # no row names 北岸区
        "装修押金交多少？",  # two rows: which one?
        "商铺装修押金交多少？",  # no row names 商铺
        "宝宝打九价HPV疫苗一针多少钱？",  # no row names 九价HPV
        "联排别墅的房屋类型是什么？",  # the question states that cell: it asks nothing of it
        "我工作25年了，年休假有几天？",  # no row's range holds 25 years
        "我是云会金卡，退房最晚能拖到几点？",  # nothing names 云会
        "硕士一等奖学金比例是多少？",  # 比例 is asked, not the line the award's name labels
        "澄会为什么而成立？",  # 「澄会（英语：…」 is a bracket's gloss, no label
    ],
)
def test_no_line_when_the_question_names_more_or_does_not_say_which(engine, question):
    assert field(engine, question) is None


def test_a_refused_question_is_answered_by_its_field_with_an_exact_quote(engine, monkeypatch):
    selector = engine.answerers["extractive"].selector
    monkeypatch.setattr(selector, "threshold", 1.01)  # the trained threshold refuses everything
    a = engine.ask("汇澄银行东湖支行几点到几点开门？")
    assert not a.refused and a.answer == "营业时间：周一至周五 9:00—17:00；周日休息[1]"
    (c,) = a.citations
    assert engine.index.docs[c.doc].text[c.start : c.end] == c.quote == "营业时间：周一至周五 9:00—17:00；周日休息"
    assert a.confidence is not None and a.confidence < 1.01  # still the selector's
    assert engine.ask("汇澄银行南湖支行在哪儿？").refused
    assert engine.ask("汇澄银行东湖支行在哪儿？", min_confidence=1.0).refused  # a threshold set by a call holds
