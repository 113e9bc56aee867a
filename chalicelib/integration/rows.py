"""CSV and JSON-lines rows ↔ record data (pure). Import: text → [(row number, data, problems)];
export: records → CSV / JSON lines text. Cells are typed by the form's field types."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from .. import spreadsheet

NUMERIC = {"number", "money", "percent", "rating", "duration"}
STRUCTURED = {"geolocation", "subtable", "image", "file", "signature"}
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n"}
MAX_ROWS = 10_000


class RowsError(ValueError):
    """The file as a whole is unusable (not a single row can be read)."""

    def __init__(self, message: str, path: str = "content") -> None:
        super().__init__(message)
        self.path = path


def _cell(field, raw: str) -> tuple[Any, str | None]:
    text = raw.strip()
    if text == "":
        return None, None
    kind = field.type
    if kind in NUMERIC:
        try:
            return Decimal(text), None
        except InvalidOperation:
            return None, "not a number"
    if kind == "checkbox":
        low = text.lower()
        return (True, None) if low in TRUE else (False, None) if low in FALSE else (None, "not true/false")
    if kind == "multiselect":
        return [p.strip() for p in text.split(";") if p.strip()], None
    if kind in STRUCTURED or (kind == "multiselect" and text.startswith("[")):
        try:
            return json.loads(text, parse_float=Decimal), None
        except ValueError:
            return None, "not valid JSON"
    return raw, None


def parse(text: str, fmt: str, form) -> list[tuple[int, dict, list[dict]]]:
    """Rows numbered from 1 (the header of a CSV is row 0). Unknown columns are a file error."""
    if fmt == "jsonl":
        return _parse_jsonl(text)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise RowsError("the CSV has no header row") from exc
    except csv.Error as exc:
        raise RowsError(f"CSV: {exc}") from exc
    header = [h.strip().lstrip("\ufeff") for h in header]
    unknown = [h for h in header if h not in form.fields_by_name]
    if unknown:
        raise RowsError(f"unknown columns: {', '.join(unknown[:10])}", "content.header")
    out = []
    try:
        for number, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue
            if number > MAX_ROWS:
                raise RowsError(f"at most {MAX_ROWS} rows per import")
            data, problems = {}, []
            if len(cells) > len(header):
                problems.append({"row": number, "path": "", "message": f"{len(cells)} cells for {len(header)} columns"})
            for name, raw in zip(header, cells):
                value, problem = _cell(form.fields_by_name[name], raw)
                if problem:
                    problems.append({"row": number, "path": f"data.{name}", "message": problem})
                elif value is not None:
                    data[name] = value
            out.append((number, data, problems))
    except csv.Error as exc:
        raise RowsError(f"CSV: {exc}") from exc
    return out


def _parse_jsonl(text: str) -> list[tuple[int, dict, list[dict]]]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if number > MAX_ROWS:
            raise RowsError(f"at most {MAX_ROWS} rows per import")
        try:
            value = json.loads(line, parse_float=Decimal)
        except ValueError:
            out.append((number, {}, [{"row": number, "path": "", "message": "not valid JSON"}]))
            continue
        if isinstance(value, dict) and set(value) == {"data"} and isinstance(value["data"], dict):
            value = value["data"]
        if not isinstance(value, dict):
            out.append((number, {}, [{"row": number, "path": "", "message": "expected a JSON object"}]))
            continue
        out.append((number, value, []))
    return out


EXPORT_META = ("id", "number", "version", "created_at", "updated_at")


def _export_cell(field_type: str | None, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)  # a number (negative ones too) is data, never a formula
    if field_type == "multiselect" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = ";".join(value)
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    else:
        text = str(value)
    return spreadsheet.neutralise(text)  # every text cell, joined options included


def to_csv(form, columns: list[str], records: Iterable[dict]) -> str:
    """Header + one line per record; quoting and the formula guard are chalicelib.spreadsheet's."""
    header = [*EXPORT_META, *columns]
    rows = ([_export_cell(None, rec.get(m)) for m in EXPORT_META]
            + [_export_cell(form.fields_by_name[c].type, rec["data"].get(c)) for c in columns] for rec in records)
    return spreadsheet.line(header, "\n") + spreadsheet.write(rows, "\n")


def to_jsonl(records: Iterable[dict]) -> str:
    return "".join(json.dumps({m: r.get(m) for m in (*EXPORT_META, "data")}, ensure_ascii=False,
                              separators=(",", ":"), default=str) + "\n" for r in records)
