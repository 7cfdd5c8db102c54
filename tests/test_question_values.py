"""Values a question pins down (a year, a level, a batch, a session, a phase, a
product's model) and sentences about another value of the same kind, which do
not answer it."""

from __future__ import annotations

from docqa.answer.candidates import candidates
from docqa.factory import make_engine, make_ingestor
from docqa.question import must_hold
from docqa.question.values import about_other_value, heading_values, values
from tests.fakes import FakeEmbedder

POLICY = (
    "数据安全\n\n对企业通过网络安全等级保护二级及以上测评的，按测评费用的50%给予补贴，最高2万元；"
    "对通过DCMM四级及以上认证的，一次性奖励20万元。\n\n"
    "科研产出\n\n2023年，研究院持续加大投入。全年发表论文231篇，较2022年增长12%。\n\n"
    "孵化\n\n研究院举办创新论坛，助力孵化企业迅速成长。"
)
REPORT = (
    "# 东岚研究院2023年度报告\n\n## 科研产出\n\n全年发表论文231篇，获得发明专利授权215件。\n\n"
    "## 2024年工作展望\n\n研究院将力争申请发明专利500件以上，新孵化科技型企业不少于15家。"
)
FAQ = (
    "问：净水器的滤芯多久需要更换？价格是多少？\n"
    "答：QH-R500共有3支滤芯：PP棉复合滤芯建议每6个月更换，售价89元；RO反渗透滤芯建议每24个月更换，售价499元。"
    "QH-R800采用2支复合滤芯设计，其中RO反渗透滤芯售价699元。\n\n"
    "问：QH-R500和QH-R800有什么区别？\n"
    "答：两款产品均采用RO反渗透技术。QH-R500的纯废水比为2:1；QH-R800的纯废水比为3:1。\n\n"
    "问：空气净化器AP-30适合多大的房间？\n"
    "答：适用面积为29至50平方米。"
)


def test_values_are_read_by_kind_in_digits_and_chinese_numerals():
    assert values("企业通过DCMM二级认证可以获得多少奖励？") == {("level dcmm", 2)}  # a level and its series
    assert values("第十二届论坛、第二十三批项目、十级风圈、一期工程") == {
        ("session", 12), ("batch", 23), ("level", 10), ("phase", 1),
    }  # fmt: skip
    assert values("In 2023, how many papers?") == {("year", 2023)}
    assert values("首批链主企业、首届论坛、首期工程") == {("batch", 1), ("session", 1), ("phase", 1)}  # 首 = 第一
    assert values("全年发表论文231篇，投入1000万元，批次，首都") == set()


def test_a_level_of_government_is_a_value_in_either_language():
    assert values("首次获评省级数字化车间的") == {("admin", 2)} == values("a provincial-level digital workshop")
    assert values("国家级、市级和区级") == {("admin", 1), ("admin", 3), ("admin", 4)}
    asked = values("And a national-level digital workshop?")
    assert about_other_value(asked, "首次获评省级数字化车间的，一次性奖励50万元；")
    assert not about_other_value(asked, "首次获评国家级、省级智能制造示范工厂的，分别奖励200万元、50万元")


def test_a_range_of_levels_says_every_level_in_it():
    p6 = values("员工推荐一名P6级人才入职，推荐人能拿多少奖金？")
    assert not about_other_value(p6, "推荐P6—P7级人才的，每人5000元")
    assert about_other_value(p6, "推荐P8级及以上人才的，每人10000元")
    assert not about_other_value(values("通过DCMM五级认证奖励多少？"), "对通过DCMM四级及以上认证的，一次性奖励20万元")
    assert about_other_value(values("通过DCMM二级认证奖励多少？"), "对通过DCMM四级及以上认证的，一次性奖励20万元")
    assert not about_other_value(values("四级工奖励多少？"), "三至五级的，奖励1000元")
    # a level of another series is another level: M2 is not in P1—P5, M5 is not P5
    assert about_other_value(values("推荐一名M2级管理人员能拿多少奖金？"), "推荐P1—P5级人才的，每人2000元；")
    assert about_other_value(values("M5级呢？"), "P5级员工的标准")
    assert not about_other_value(values("P5级员工住宿费多少？"), "P5—P7级及M1—M2级员工，二类城市420元；")
    assert not about_other_value(values("DCMM二级认证奖励多少？"), "通过二级认证的，奖励10万元")  # no series: either


def test_a_model_code_is_a_value_of_its_model():
    assert values("青禾净水器QH-R800的纯废水比是多少？") == {("model QH-R", 800)}
    assert values("AP-30和SR-9") == {("model AP-", 30), ("model SR-", 9)}
    assert values("DCMM二级、CO2排放、AI4S布局、5G基站") == {("level dcmm", 2)}
    asked = values("QH-R800的纯废水比是多少？")
    assert about_other_value(asked, "QH-R500的额定净水流量为每分钟1.3升，纯废水比为2:1；")
    assert not about_other_value(asked, "QH-R500为2:1，QH-R800为3:1")
    # another model altogether is another model too: WD-10's extended warranty is not HD-9's
    assert about_other_value(asked, "AP-30的适用面积为29至50平方米")
    assert about_other_value(values("那HD-9的延保呢？"), "WD-10可在购机后90天内购买延保服务，延长整机保修期2年")
    assert not about_other_value(values("HD-9和WD-10的延保呢？"), "WD-10可在购机后90天内购买延保服务")
    assert not about_other_value(values("城巴E23P线什么时候投入使用？"), "E23线的特别班次")  # a variant of one number
    # … unless a code is asked for: the battery's code answers 「SR-9用的是什么型号的电池？」
    assert not about_other_value(values("SR-9用的是什么型号的电池？"), "电池型号：BT-5200", same_letters=True)
    assert about_other_value(values("SR-9用的是什么型号的电池？"), "SR-7的电池型号：BT-5200", same_letters=True)


def test_a_membership_tier_is_a_value():
    """金卡's transfer fee does not answer a question about 银卡; 「银卡及以上」 holds every tier above it."""
    assert values("力行健身的银卡转让要交多少手续费？") == {("tier", 8)}
    assert values("白金会员能多带多少行李？") == values("白金卡") and values("金卡会员") == values("金卡")
    assert values("现金卡、银行卡、银卡及以上会员") == set()
    asked = values("银卡转让要交多少手续费？")
    assert about_other_value(asked, "第十六条 转让手续费：金卡200元，黑卡免收。")
    assert not about_other_value(values("黑卡转让要交多少手续费？"), "第十六条 转让手续费：金卡200元，黑卡免收。")
    assert not about_other_value(asked, "银卡及以上会员可免费转让一次")


def test_a_class_or_a_lettered_option_is_a_value():
    """Tiers of a fee table or an insurance plan: 四类区域 is not answered by the 三类区域 row, nor
    计划D by a row of plans A to C; 这一类 and 另外一类 are no class."""
    assert values("四类区域的停车场首小时收多少？") == {("grade", 4)}
    assert values("第一类医疗器械") == {("grade", 1)}
    assert values("计划D的意外身故保额是多少？") == values("D类人才") == values("选D档的话") == {("option", 4)}
    assert values("这一类企业、另外一类、各类人才、计划经济、ABC计划") == set()
    row = "区域：三类区域，白天首小时：3元，首小时后：每小时2元"
    assert about_other_value(values("四类区域的停车场首小时收多少？"), row)
    assert not about_other_value(values("三类区域的停车场首小时收多少？"), row)
    plans = "保障项目：意外身故，计划A：10万元，计划B：30万元，计划C：50万元"
    assert about_other_value(values("计划D的意外身故保额是多少？"), plans)
    assert not about_other_value(values("选B档的话，意外死亡能赔多少钱？"), plans)


def test_the_innermost_heading_that_names_a_value_holds():
    assert heading_values(("东岚研究院2023年度报告", "2024年工作展望")) == {("year", 2024)}
    assert heading_values(("东岚研究院2023年度报告", "科研产出")) == {("year", 2023)}
    asked = values("研究院2023年获得了多少件发明专利授权？")
    assert about_other_value(asked, "申请发明专利500件以上", ("东岚研究院2023年度报告", "2024年工作展望"))
    assert not about_other_value(asked, "获得发明专利授权215件", ("东岚研究院2023年度报告", "科研产出"))


def test_a_sentence_about_another_value_and_not_the_asked_one():
    asked = values("数据安全实验室2023年获得了多少件发明专利授权？")
    assert about_other_value(asked, "2022年申请发明专利45件。")
    assert not about_other_value(asked, "2023年，申请发明专利45件，较2022年增长。")  # both: the asked one holds
    assert not about_other_value(asked, "申请发明专利45件。")  # no value said: nothing against it
    assert not about_other_value(set(), "2022年申请发明专利45件。")
    first = values("静安区第一批链主企业一共有几家？")
    assert not about_other_value(first, "第二批12家联合体成立。8家企业成为首批链主企业")  # 首批 is the asked one
    assert about_other_value(first, "第二批12家联合体成立。")


def test_a_clause_qualified_by_another_level_may_not_answer(settings, tmp_path):
    allowed = _allowed(settings, tmp_path, "policy.txt", POLICY)
    level = allowed("企业通过DCMM二级认证可以获得多少奖励？")
    assert not any(a for text, a in level.items() if "20万元" in text)  # 四级's award, even the bare clause
    assert any(a for text, a in level.items() if "2万元" in text and "20万元" not in text)  # 二级 holds there
    year = allowed("研究院2023年发表了多少篇论文？")
    assert all(a for text, a in year.items() if "231篇" in text)  # 2023年 said in the sentence before
    assert not any(a for text, a in allowed("研究院2021年发表了多少篇论文？").items() if "231篇" in text)
    # a question that only counts: a span with no number names the things, counts none
    counted = allowed("研究院孵化了多少家企业？")
    assert counted and not any(a for text, a in counted.items() if "孵化企业" in text)
    assert any(a for text, a in allowed("研究院孵化企业情况如何？").items() if "孵化企业" in text)


def test_what_an_answer_must_hold_a_number_a_year_a_month_a_day_or_a_phone_number():
    number = must_hold("该区累计组建了多少个创新联合体？")
    assert number is not None and number is must_hold("全香港共有几所高中书院？")
    for question in (
        "哪几个区组建了创新联合体？",
        "第几版？",
        "几家企业中哪家最早成立？",
        "占比多少？",
        "宝山区发布了什么文件？",
    ):
        assert must_hold(question) is None, question
    assert all(number.search(t) for t in ("组建创新联合体8个", "共有四所", "增为二十二行省", "近三千个", "百余名"))
    assert not number.search("助力孵化企业迅速成长") and not number.search("统一推进")
    year = must_hold("上海御渡半导体科技有限公司是哪一年成立的？")
    assert year is not None and must_hold("哪一年级的学生最多？") is None and must_hold("谁在哪一年成立了它？") is None
    assert all(year.search(t) for t in ("2024年度", "康熙七年", "476", "十九世纪"))
    assert not year.search("第二批12家长三角创新联合体成立，上海御渡半导体科技有限公司等")
    assert all(year.search(t) for t in ("民国34年8月15日日本投降", "光绪31年，", "庚申年三月", "次年春"))
    # a span of years answers how long, not which year (a development near miss answered at 0.45)
    assert not any(year.search(t) for t in ("给予3—5年的长周期稳定支持", "有效期为5年", "合作多年"))
    assert not year.search("发布ChainWeaver2.0操作系统，累计接入链主企业147家")  # a count, not a year
    month = must_hold("DL-2317是哪个月获得临床试验批准的？")  # an FAQ's answer said only what is planned
    assert month is not None and month is must_hold("紅軍於幾月開始徵兵?") and must_hold("试用期有几个月？") is not month
    assert all(month.search(t) for t in ("于2023年6月获得临床试验批准", "七月初十", "月份"))
    assert not month.search("生物医药研究所将推动DL-2317进入II期临床试验")
    day = must_hold("长三角重大科技基础设施联动发展合作备忘录是哪天签的？")  # a development near miss
    assert day is not None and day is must_hold("燕軍在哪一天入松亭關?") and day is must_hold("开学是几月几号？")
    assert must_hold("一周中哪几天开放？") is None and must_hold("需要几天能到账？") is None
    assert all(day.search(t) for t in ("2024年3月15日", "十月廿一", "自调试验收合格之日起计算", "2024-03-15"))
    assert not day.search("国际首创柔性潜标精密布放装置完成海试，为深海工程建设奠定坚实基础")
    # which number to call: a number of three digits or more (a trap had been answered with
    # 「除临港社区网点外，其余各网点均设有24小时自助银行…」 for 「临港社区网点的电话是什么？」)
    phone = must_hold("临港社区网点的电话是什么？")
    assert phone is not None and phone is must_hold("卡丢了，挂失打哪个电话") and phone is must_hold("客服电话多少")
    assert must_hold("电话挂失的有效期是几天？") is not phone and must_hold("为什么电话号码要保密？") is None
    assert all(phone.search(t) for t in ("客服热线：400-655-8800", "联系电话：0796-88452300", "拨打12345"))
    assert not phone.search("第五条 除临港社区网点外，其余各网点均设有24小时自助银行")


def _allowed(settings, tmp_path, name: str, text: str):
    """Which candidates may answer a question, by their text, over one document."""
    d = tmp_path / "corpus"
    d.mkdir()
    (d / name).write_text(text, encoding="utf-8")
    make_ingestor(settings, FakeEmbedder()).ingest([d])
    engine = make_engine(settings, FakeEmbedder())

    def allowed(question: str) -> dict[str, bool]:
        q, hits = engine.inspect(question)
        spans, ok = candidates(q, hits, engine.analyser.segmenter)
        return {s.text: a for s, a in zip(spans, ok)}

    return allowed


def test_a_plan_under_a_later_years_heading_does_not_answer_for_the_report_year(settings, tmp_path):
    allowed = _allowed(settings, tmp_path, "annual.md", REPORT)
    plan = allowed("研究院2023年申请了多少件发明专利？")
    assert plan and not any(a for text, a in plan.items() if "500件" in text)
    assert any(a for text, a in allowed("研究院2023年获得多少件发明专利授权？").items() if "215件" in text)


def test_an_faq_answer_is_about_the_model_its_paragraph_names(settings, tmp_path):
    allowed = _allowed(settings, tmp_path, "faq.txt", FAQ)
    r800 = allowed("QH-R800的RO反渗透滤芯多少钱？")
    assert not any(a for text, a in r800.items() if "499元" in text)  # QH-R500's, named before it in the answer
    assert any(a for text, a in r800.items() if "699元" in text)
    assert any(a for text, a in allowed("QH-R500的RO反渗透滤芯多少钱？").items() if "499元" in text)
    ratio = allowed("QH-R800的纯废水比是多少？")  # the question line names both: each clause names its own
    assert not any(a for text, a in ratio.items() if "2:1" in text and "3:1" not in text)
    assert any(a for text, a in ratio.items() if "3:1" in text)


def test_an_faq_question_line_is_no_answer_but_the_context_of_the_next(settings, tmp_path):
    allowed = _allowed(settings, tmp_path, "faq.txt", FAQ)
    room = allowed("空气净化器AP-30适合多大的房间？")
    assert room and not any(text.startswith("问：") for text in room)
    assert any(a for text, a in room.items() if "29至50平方米" in text)


APPLIANCES = """澜净洗衣机与烘干机售后说明

一、WD-10滚筒洗衣机
洗涤噪音：≤48分贝；脱水噪音：≤72分贝
第三条 WD-10可在购机后90天内购买延保服务，延长整机保修期2年，价格199元。

二、HD-9热泵烘干机
HD-9适宜的工作环境温度为5℃至35℃。
"""

GYM = """力行健身会员手册

第十四条 银卡、金卡、黑卡可以转让；月卡、季卡不可转让。
第十五条 转让须由双方本人到店办理。
第十六条 转让手续费：金卡200元，黑卡免收。
"""


def test_another_models_fact_does_not_answer_whatever_its_letters(settings, tmp_path):
    """HD-9 and WD-10 share no letters, yet the washer's extended warranty and its
    noise under its heading are not the dryer's (a blind dialogue had answered both)."""
    allowed = _allowed(settings, tmp_path, "appliance.txt", APPLIANCES)
    dryer = allowed("HD-9的延保服务多少钱？")
    assert dryer and not any(a for text, a in dryer.items() if "199元" in text or "72分贝" in text)
    assert any(a for text, a in allowed("WD-10的延保服务多少钱？").items() if "199元" in text)


def test_a_tier_is_answered_only_by_what_its_own_sentence_says(settings, tmp_path):
    """金卡's fee is no answer about 银卡, though the article before names 银卡; nor is
    the bare label 「转让手续费」 of that sentence."""
    allowed = _allowed(settings, tmp_path, "gym.txt", GYM)
    silver = allowed("力行健身的银卡转让要交多少手续费？")
    assert silver and not any(a for text, a in silver.items() if "转让手续费" in text)
    assert any(a for text, a in allowed("黑卡转让收费吗？").items() if "黑卡免收" in text)
    assert any(a for text, a in allowed("金卡转让要交多少手续费？").items() if "金卡200元" in text)


def test_a_code_named_in_passing_before_does_not_make_a_sentence_about_it(settings, tmp_path):
    """In prose the last code a paragraph named is often a passing one: 「1995年初…开始运作」
    is about A-135, not the ABM-1 (A-35M) named in the sentence before it."""
    text = (
        "A-135反弹道导弹系统是部署在莫斯科附近区域的一套系统。A-135于1989年宣布成军，其中两处是由"
        "第一代反弹道飞弹ABM-1（编号A-35/A-35M）的发射阵地改建。1995年初整套系统进入警戒状态，开始运作。\n"
    )
    allowed = _allowed(settings, tmp_path, "wiki.txt", text)
    assert any(a for t, a in allowed("A-135反弹道导弹系统于哪年开始运作？").items() if "1995年" in t)
