"""Interface text in Chinese (the default) and English.

Every string a person sees in the chat window comes from here (what depends
on the documents — their title, example questions, the refusal — comes from
the collection, ``docqa/collection.py``); the widget's own strings live in
``static/widget-app.js``."""

from __future__ import annotations

LANGS = ("zh", "en")

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "DocQA 文档问答",
        "intro": "根据已收录的文档回答问题，每个答案都标注出处，点开「来源」可查看引用的原文。",
        "chat": "对话",
        "placeholder": "输入关于文档的问题",
        "placeholder_example": "输入问题，例如：{example}",
        "send": "提问",
        "clear": "清空对话",
        "examples": "示例问题",
        "settings": "设置",
        "top_k": "检索段落数（top-k）",
        "mode": "回答模式",
        "mode_extractive": "摘录原文",
        "mode_llm": "大模型生成",
        "sources": "来源",
        "page": "第 {page} 页",
        "chars": "字符 {start}–{end}",
        "on_page": "在页面上查看",
        "low_confidence": "这段引文来自扫描件的文字识别，部分文字识别置信度较低，请对照页面核实。",
        "refused_hint": "可以换一种问法，或询问文档中涉及的内容。",
        "nearest": "最接近问题的段落（未能确认其中有答案）",
        "notice": "提示",
        "index": "已收录 {documents} 份文档、{chunks} 个段落 · 检索模型 {model}",
        "empty": "还没有提问。",
        "error": "无法回答",
        "understood_as": "理解为：{question}",
        "feedback_recorded_up": "已记录：有帮助。谢谢！",
        "feedback_recorded_down": "已记录：没有帮助。谢谢！",
        "feedback_comment": "这个回答哪里不对？（可选，最多 1000 字）",
        "feedback_comment_placeholder": "例如：数字不对、答非所问……",
        "feedback_send": "发送反馈",
        "feedback_cancel": "取消",
        "feedback_thanks": "反馈已记录，谢谢！",
        "feedback_failed": "反馈未能发送",
        "too_many": "提问太频繁了，请 {s} 秒后再试。",
        "feedback_again": "这个回答已经评价过了。",
    },
    "en": {
        "title": "DocQA",
        "intro": "Answers come from the indexed documents only, each with its sources: open “Sources” to read the quoted text.",
        "chat": "Chat",
        "placeholder": "Ask a question about the documents",
        "placeholder_example": "Ask a question, e.g. {example}",
        "send": "Ask",
        "clear": "Clear",
        "examples": "Example questions",
        "settings": "Settings",
        "top_k": "Passages to retrieve (top-k)",
        "mode": "Answer mode",
        "mode_extractive": "Extractive (quote the source)",
        "mode_llm": "LLM (generated)",
        "sources": "Sources",
        "page": "page {page}",
        "chars": "chars {start}–{end}",
        "on_page": "Show on the page",
        "low_confidence": "Part of this quote was read from a scan with low confidence: check it against the page.",
        "refused_hint": "Try rephrasing, or ask about something the documents cover.",
        "nearest": "Passages closest to the question (not confirmed to answer it)",
        "notice": "Note",
        "index": "{documents} documents, {chunks} passages indexed · model {model}",
        "empty": "No questions yet.",
        "error": "Cannot answer",
        "understood_as": "Understood as: {question}",
        "feedback_recorded_up": "Recorded as helpful. Thanks!",
        "feedback_recorded_down": "Recorded as not helpful. Thanks!",
        "feedback_comment": "What is wrong with this answer? (optional, up to 1000 characters)",
        "feedback_comment_placeholder": "e.g. the figure is wrong, it answers another question…",
        "feedback_send": "Send feedback",
        "feedback_cancel": "Cancel",
        "feedback_thanks": "Thanks, your feedback was recorded.",
        "feedback_failed": "Feedback not sent",
        "too_many": "Too many questions in a short time; please try again in {s} s.",
        "feedback_again": "This answer has already been rated.",
    },
}


def labels(lang: str) -> dict[str, str]:
    """The labels for ``lang``; raises ``ValueError`` naming the choices."""
    if lang not in LABELS:
        raise ValueError(f"unknown interface language {lang!r}; choose one of {', '.join(LANGS)}")
    return LABELS[lang]
