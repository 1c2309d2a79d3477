"""Deterministic words for the seeded data: titles, transcript text, report Markdown.

Mixed Russian and English with emoji on purpose: the real service is Russian-first, and a connector
must carry non-ASCII text through untouched.
"""

from __future__ import annotations

import hashlib
import uuid

ID_NAMESPACE = uuid.UUID("6f1d3a52-3c0e-4a39-9a57-3f1b1f0c7e11")

# template_code -> template_name, as the product's report templates.
REPORT_TEMPLATES = {
    "meeting_minutes": "Meeting minutes",
    "protocol_ru": "Протокол встречи 📝",
    "action_items": "Action items",
    "sales_review": "Разбор звонка продаж 📈",
}

TOPICS = (
    "Sales sync — Q2 kickoff",
    "Планёрка отдела продаж",
    "Product review 🚀",
    "Интервью с кандидатом",
    "Weekly 1:1",
    "Ретроспектива спринта 🔁",
    "Customer call: Acme Corp",
    "Обсуждение бюджета 💰",
)

SPEAKER_LINES = (
    "Спикер 1: Добрый день, коллеги! Начнём с итогов прошлой недели.",
    "Speaker 2: Welcome everybody, today we'll cover the pipeline and the renewals.",
    "Спикер 3: По клиенту «Ромашка» — договор на подписании ✍️.",
    "Speaker 1: Action item for Maria: send the revised quote by Friday.",
    "Спикер 2: Есть риск по срокам, нужна помощь от команды разработки 🙏.",
)

PROJECT_NAMES = ("Team A", "Продажи 💼", "Архив", "Hiring", "R&D 🔬")
PROJECT_COLORS = ("#6366F1", "#F59E0B", "#10B981", "#EF4444", "#3B82F6")


def make_id(*parts: object) -> str:
    """Same parts, same UUID: equal to str(uuid.uuid5(ID_NAMESPACE, "a/b/c")), built without
    uuid.UUID objects, which would triple the time to seed 20,000 transcripts."""
    digest = bytearray(hashlib.sha1(ID_NAMESPACE.bytes + "/".join(map(str, parts)).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    hex = digest.hex()
    return f"{hex[:8]}-{hex[8:12]}-{hex[12:16]}-{hex[16:20]}-{hex[20:]}"


def topic(index: int) -> str:
    return TOPICS[index % len(TOPICS)]


def transcript_text(title: str, variant: int) -> str:
    lines = [SPEAKER_LINES[(variant + n) % len(SPEAKER_LINES)] for n in range(3)]
    return f"{title}\n" + "\n".join(lines)


def transcript_summary(title: str) -> str:
    return f"Итоги: {title}. Next steps agreed ✅"


def large_transcript_text(target_bytes: int = 200_000) -> str:
    """About `target_bytes` of UTF-8 (Cyrillic is two bytes a letter), timestamped like a real transcript."""
    lines, size, second = [], 0, 0
    while size < target_bytes:
        line = f"[{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}] {SPEAKER_LINES[second % len(SPEAKER_LINES)]}"
        lines.append(line)
        size += len(line.encode("utf-8")) + 1
        second += 7
    return "\n".join(lines)


def report_content(template_code: str, title: str) -> str:
    """Markdown in the template's language; `title` is the template's or the meeting's name."""
    if template_code in ("protocol_ru", "sales_review"):
        return f"## Итоги\n{title}: договорились о следующих шагах.\n\n## Задачи ✅\n- Отправить КП клиенту\n- Назначить демо"
    return f"## Summary\n{title}: priorities agreed.\n\n## Action items\n- Send the revised quote\n- Book the follow-up demo 📅"
