"""One line that says why an engineer ranks where they do, beside the cost parts (pure): distance,
skill level, open orders and region for an eligible engineer; the broken rules for the others. In
the caller's language (en, zh-CN); built only from the candidate's own parts, nothing of the order."""
from __future__ import annotations

import re

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


# The engine's notes (scoring.score_parts) and rule messages (rules.violations) in zh-CN, by their
# English templates: a template the table lacks stays English rather than being guessed.
_NOTES_ZH = [(re.compile(pattern), zh) for pattern, zh in (
    (r"(\d+(?:\.\d+)?) km to the site", r"距现场 \1 公里"),
    (r"engineer location unknown: counted as far", "工程师位置未知：按最远计"),
    (r"the order has no site location", "工单没有现场位置"),
    (r"(\S+) level (\d+) of (\d+)", r"\1 技能 \2 级（最高 \3 级）"),
    (r"the order needs no particular skill", "工单不需要特定技能"),
    (r"no preferred engineer", "工单未指定工程师"),
    (r"the preferred engineer", "工单指定的工程师"),
    (r"the order prefers (.+)", r"工单指定 \1"),
    (r"last dispatched (\d+(?:\.\d+)?) h ago", r"上次派工在 \1 小时前"),
    (r"not dispatched yet", "尚未派过工"),
    (r"helps from neighbouring region (.+)", r"从相邻区域 \1 支援"),
    (r"same region", "同一区域"),
    (r"(\d+) today of (\d+) \((\d+) open\)", r"今日 \1 单，每日上限 \2 单（在手 \3 单）"),
    (r"(\d+) open of (\d+)", r"在手 \1 单，上限 \2 单"),
    (r"the order has no region", "工单没有服务区域"),
    (r"region (.+) is not one of: (.+)", r"区域 \1 不在可派区域（\2）之内"),
    (r"no (\S+) skill; needs level (\d+)", r"没有 \1 技能；需要 \2 级"),
    (r"level (\d+) (\S+) skill; needs level (\d+)", r"\2 技能 \1 级；需要 \3 级"),
    (r"not on duty", "未在岗"),
    (r"at capacity \((\d+) today of (\d+)\)", r"今日已满（\1 / \2 单）"),
    (r"at capacity \((\d+) open of (\d+)\)", r"工单已满（在手 \1 / \2 单）"),
    (r"(\d+) open orders; at most (\d+) at once", r"在手 \1 单；同时最多 \2 单"),
    (r"excluded by the order \(e\.g\. declined it before\)", "已被本单排除（如曾拒单）"),
    (r"the order requires (.+)", r"本单指定由 \1 处理"),
    (r"away from (.+) until (.+)", r"\1 至 \2 不在岗"),
    (r"(\d+(?:\.\d+)?) km away; at most (.+) km", r"距离 \1 公里；最远 \2 公里"),
    # batch dispatch (dispatch.batch.plan, services.dispatch.batch)
    (r"no engineers in region\(s\) (.*)", r"区域 \1 没有工程师"),
    (r"its eligible engineers' free capacity went to other orders \(higher priority or lower total cost\)",
     "合格工程师的余量已分给其他工单（优先级更高或总成本更低）"),
    (r"the record has no workflow", "记录没有流程"),
    (r"action '(.+)' is not available to you in state (.+)", r"在状态 \2 下您不能执行操作“\1”"),
)]


_NONE_AMONG = re.compile(r"no eligible engineer among (\d+) \(excluded by (.+)\)")


def note_in(text: str, language: str | None) -> str:
    """One of the engine's notes or rule messages in the reader's language."""
    if not _zh(language) or not isinstance(text, str):
        return text
    if text == "no engineers to consider":
        return "没有可考虑的工程师"
    among = _NONE_AMONG.fullmatch(text)
    if among:  # scoring.why_none: "rule: n, ..." with each rule in words
        counts = [part.split(": ") for part in among.group(2).split(", ")]
        return f"{among.group(1)} 名工程师都不合格（" + "，".join(f"{RULES_ZH.get(rule, rule)} {n} 名" for rule, n in counts) + "）"
    for pattern, zh in _NOTES_ZH:
        if pattern.fullmatch(text):
            return pattern.sub(zh, text)
    return text


def localize_candidate(candidate: dict, language: str | None) -> dict:
    """`Candidate.to_dict()` with its parts' notes and its rule messages in the reader's language."""
    if not _zh(language):
        return candidate
    for part in (candidate.get("parts") or {}).values():
        if "note" in part:
            part["note"] = note_in(part["note"], language)
    for rule in candidate.get("excluded") or []:
        if "message" in rule:
            rule["message"] = note_in(rule["message"], language)
    return candidate
