"""Which days a question or a candidate is about (docqa/question/frames.py)."""

from __future__ import annotations

from docqa.question.frames import about_other_days, day_frames


def test_days_are_read_by_class():
    assert day_frames("营业时间：周一至周五 06:00—23:00") == {"weekday"}
    assert day_frames("周六、周日 08:00—22:00") == {"weekend"}
    assert day_frames("周一至周日 9:00—17:00") == {"every"}
    assert day_frames("法定节假日营业安排另行公告") == {"holiday"}
    assert day_frames("营业时间：06:00—23:00") == set()


def test_a_clause_about_other_days_only_does_not_answer():
    weekend = day_frames("滨江旗舰店周末几点到几点营业？")
    assert about_other_days(weekend, "营业时间：周一至周五 06:00—23:00")
    assert not about_other_days(weekend, "周六、周日 08:00—22:00")
    assert not about_other_days(weekend, "营业时间：周一至周日 9:00—17:00")  # every day holds the weekend
    assert not about_other_days(weekend, "营业时间：06:00—23:00")  # says no days: not about others
