"""One line that says why an engineer ranks where they do, beside the cost parts (pure): distance,
skill level, open orders and region for an eligible engineer; the broken rules for the others. In
the caller's language (en, zh-CN); built only from the candidate's own parts, nothing of the order."""
from __future__ import annotations

RULES_ZH = {"region": "不在可派区域", "skill": "技能不足", "on_duty": "未在岗", "capacity": "工单已满", "open_limit": "在手工单已达上限",
            "excluded": "已被本单排除（如曾拒单）", "required_engineer": "本单指定了其他工程师",
            "availability": "休假中", "distance": "距离过远"}


def _zh(language: str | None) -> bool:
    return (language or "").lower().startswith("zh")


def candidate_summary(candidate: dict, language: str | None = None) -> str:
    """`candidate` is `Candidate.to_dict()`: rank, eligible, parts, excluded, load, capacity."""
    zh = _zh(language)
    if not candidate.get("eligible"):
        reasons = candidate.get("excluded") or []
        if zh:
            return "不可派：" + "；".join(dict.fromkeys(RULES_ZH.get(r["rule"], r["rule"]) for r in reasons))
        return "Not eligible: " + "; ".join(r["message"] for r in reasons)
    parts = candidate.get("parts") or {}
    bits: list[str] = []
    km = (parts.get("distance") or {}).get("value")
    if km is not None:
        bits.append(f"距现场 {km:.1f} 公里" if zh else f"{km:.1f} km")
    skill = parts.get("skill") or {}
    if skill.get("value") is not None:
        bits.append(f"技能 {skill['value']} 级" if zh else f"skill {skill['value']}")
    load = candidate.get("load") or 0
    bits.append(f"在手 {load} 单" if zh else f"{load} open order{'' if load == 1 else 's'}")
    today = candidate.get("today") or 0
    if today:
        bits.append(f"今日已派 {today} 单" if zh else f"{today} assigned today")
    neighbour = parts.get("neighbour_region") or {}
    if neighbour.get("score"):
        bits.append(f"来自相邻区域 {neighbour.get('value')}" if zh else f"from neighbouring region {neighbour.get('value')}")
    spare = candidate.get("capacity") is None or load < (candidate.get("capacity") or 0)
    if candidate.get("rank") == 1:
        lead = ("最合适的合格工程师" + ("，尚有余量" if spare else "")) if zh else \
            ("Nearest qualified engineer" if km is not None else "Best qualified engineer") + (" with spare capacity" if spare else "")
    else:
        lead = f"第 {candidate.get('rank')} 名" if zh else f"Ranked {candidate.get('rank')}"
    return lead + ("：" if zh else ": ") + ("，" if zh else ", ").join(bits)


def none_summary(reason: str | None, language: str | None = None) -> str:
    """The line when nobody is eligible."""
    if _zh(language):
        return "没有合格的工程师：" + (reason or "") if reason else "没有合格的工程师"
    return f"No eligible engineer: {reason}" if reason else "No eligible engineer"
