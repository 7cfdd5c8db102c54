"""Quantities a question states and conditions that leave them out: a tier of
a policy for another length of service, fee or rank does not answer it."""

from __future__ import annotations

import math

from docqa.answer.candidates import candidates
from docqa.factory import make_engine, make_ingestor
from docqa.question.ranges import Range, conditions, fits, given, leaves_out, stated
from tests.fakes import FakeEmbedder

HANDBOOK = (
    "第十三条 年休假。员工累计工作已满1年不满10年的，年休假5天；已满10年不满20年的，年休假10天；"
    "已满20年的，年休假15天。\n\n"
    "第二十条 培训。公司出资参加外部培训，费用在1万元以上不满3万元的，服务期为1年；"
    "费用在3万元及以上的，服务期为2年。在职取得硕士学位的，报销学费的50%，最高不超过2万元。"
)


def test_a_question_states_quantities_with_their_units_and_no_calendar_years():
    assert stated("在公司之前已经累计工作了12年的员工，每年能休几天年假？") == [Range("年", 12, 12)]
    assert stated("公司出资4万元送员工培训，要签几年服务期？") == [Range("元", 40_000, 40_000)]
    assert stated("排第30名的新生能拿多少奖学金？") == [Range("名", 30, 30)]
    assert stated("签了两年期的劳动合同，试用期多长？") == [Range("年", 2, 2)]
    assert stated("2023年发表了多少篇论文？") == []
    assert stated("每年能休几天？") == []
    assert stated("对链主企业带动配套企业完成改造的，每带动1家奖励多少？") == []  # a rate
    # a condition the question itself holds is its range, which the same condition in the document meets
    over = stated("年度上云费用超过50万元的企业，补贴上限是多少？")
    assert over == [Range("元", 500_000, math.inf, low_strict=True)]
    assert not leaves_out(over, "对年度上云费用超过50万元的企业，补贴上限提高至10万元。")
    assert leaves_out(over, "年度上云费用不满50万元的，补贴上限5万元。")


def test_conditions_give_ranges_with_their_bounds():
    assert conditions("员工累计工作已满1年不满10年的，年休假5天；已满20年的，年休假15天。") == [
        Range("年", 1, 10, high_strict=True),
        Range("年", 20, math.inf),
    ]
    assert conditions("费用在1万元以上不满3万元的，服务期为1年") == [Range("元", 10_000, 30_000, high_strict=True)]
    assert conditions("位于本省录取考生前5名的新生，每人奖励20000元") == [Range("名", 1, 5)]
    assert conditions("劳动合同期限一年以上不满三年的，试用期为2个月") == [Range("年", 1, 3, high_strict=True)]
    assert conditions("工龄超过10年的员工：另加2天") == [Range("年", 10, math.inf, low_strict=True)]
    assert conditions("单笔金额不超过5000元的部分，全额报销") == [Range("元", high=5000)]


def test_a_table_cell_gives_a_range_that_may_hold_a_stated_quantity():
    # a cell is no condition by its words (no 的 follows it), yet it bounds the row
    assert given("累计工作年限：满10年不满20年，年休假：10天") == [Range("年", 10, 20, high_strict=True)]
    assert given("适用对象：60至69周岁老年人") == [Range("岁", 60, 69)]  # 周岁 is 岁, not 周
    asked = stated("我今年65岁，门票多少钱？")
    assert fits("65", asked, "适用对象：60至69周岁老年人")
    assert not fits("65", asked, "适用对象：18至59周岁")
    assert not fits("65", [], "适用对象：60至69周岁老年人")  # a number the question states as no quantity
    assert not fits("13价", asked, "13价肺炎球菌结合疫苗")


def test_a_cap_on_what_is_given_is_no_condition():
    assert conditions("报销学费的50%，最高不超过2万元。") == []
    assert conditions("适用面积为29至50平方米。") == []
    assert conditions("2020年以上的数据") == []  # a calendar year


def test_a_condition_that_leaves_out_the_stated_quantity():
    twelve = stated("累计工作了12年的员工有几天年休假？")
    assert leaves_out(twelve, "员工累计工作已满1年不满10年的，年休假5天；")
    assert not leaves_out(twelve, "已满10年不满20年的，年休假10天；")
    assert not leaves_out(twelve, "年休假原则上应在当年度内休完。")  # no condition: nothing against it
    assert not leaves_out(stated("费用3万元的培训要签几年？"), "费用在3万元及以上的，服务期为2年")  # 及以上 holds it
    assert leaves_out(stated("费用3万元的培训要签几年？"), "费用在1万元以上不满3万元的，服务期为1年")  # 不满 does not
    assert not leaves_out(stated("费用4万元的培训要签几年？"), "最高不超过2万元")
    assert not leaves_out([], "员工累计工作已满1年不满10年的，年休假5天；")


def test_a_tier_for_another_quantity_is_no_candidate(settings, tmp_path):
    d = tmp_path / "corpus"
    d.mkdir()
    (d / "handbook.txt").write_text(HANDBOOK, encoding="utf-8")
    make_ingestor(settings, FakeEmbedder()).ingest([d])
    engine = make_engine(settings, FakeEmbedder())

    def texts(question: str) -> list[str]:
        q, hits = engine.inspect(question)
        return [s.text for s in candidates(q, hits, engine.analyser.segmenter)[0]]

    years = texts("累计工作了12年的员工有几天年休假？")
    assert any("年休假10天" in t for t in years)
    assert not any("年休假5天" in t and "10天" not in t for t in years)  # the bare clause too
    fee = texts("公司出资4万元送员工参加外部培训，服务期几年？")
    assert any("服务期为2年" in t for t in fee) and not any("服务期为1年" in t and "2年" not in t for t in fee)
    assert any("服务期为1年" in t for t in texts("公司出资2万元送员工参加外部培训，服务期几年？"))
