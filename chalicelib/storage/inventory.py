"""Stock per (warehouse, part) and its movement ledger. Stock changes only through ADD with a
condition (`on_hand >= quantity` for anything that takes stock out), in the same TransactWriteItems
as the ledger entry and, for parts used on a record, the record line itself: stock never goes below
zero however many engineers draw at once, and no movement exists without its cause."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .. import jsonutil
from ..errors import Conflict, ValidationFailed
from . import keys
from .models import IdempotencyItem, LedgerItem, RecordItem, StockItem
from .records import _Transaction


def stock_pk(tenant: str, warehouse: str, part: str) -> str:
    return f"T#{tenant}#STK#{warehouse}#{part}"


def warehouse_list_pk(tenant: str, warehouse: str) -> str:
    return f"T#{tenant}#STOCK#{warehouse}"


@dataclass(frozen=True)
class StockLabel:
    """Transaction label of a stock change: on a failed condition it explains itself."""

    warehouse: str
    part: str
    quantity: Decimal
    path: str = "quantity"

    def raise_for(self, old: dict | None) -> None:
        on_hand = Decimal(str(old.get("on_hand", 0))) if old else Decimal(0)
        raise Conflict(f"not enough stock: {on_hand} on hand, {self.quantity} requested", code="insufficient_stock",
                       details=[{"path": self.path, "message": f"{on_hand} on hand in warehouse {self.warehouse}",
                                 "on_hand": on_hand, "warehouse": self.warehouse, "part": self.part}])


class MovementReplayed(Exception):
    """The Idempotency-Key was used before: nothing was written, `response` is the first answer."""

    def __init__(self, response: dict) -> None:
        super().__init__("replayed")
        self.response = response


def _number(value: Decimal) -> int | float:
    # PynamoDB serialises numbers with json.dumps: exact for the <= 15 significant digits quantities have
    return int(value) if value == value.to_integral_value() else float(value)


def stock_change_ops(tenant: str, warehouse: str, part: str, delta: Decimal, now: str, movement_id: str,
                     entry: dict, *, path: str = "quantity") -> list[tuple]:
    """Ops for WritePlan.extra / a transaction: the stock ADD (conditioned when it takes stock out)
    and its ledger entry (conditioned on the movement id being new)."""
    pk = stock_pk(tenant, warehouse, part)
    item = StockItem(pk, "STK")
    actions = [StockItem.on_hand.add(_number(delta)), StockItem.tenant.set(tenant), StockItem.warehouse.set(warehouse),
               StockItem.part.set(part), StockItem.updated_at.set(now),
               StockItem.opk.set(warehouse_list_pk(tenant, warehouse)), StockItem.lsk.set(part)]
    condition = StockItem.on_hand >= _number(-delta) if delta < 0 else None
    ledger = LedgerItem(pk, f"L#{movement_id}", tenant=tenant,
                        entry=jsonutil.dumps({**entry, "id": movement_id, "warehouse": warehouse, "part": part,
                                              "quantity": delta, "at": now}))
    return [("update", (item, actions), condition, StockLabel(warehouse, part, -delta, path)),
            ("put", ledger, LedgerItem.pk.does_not_exist(), "ledger")]


def idempotency_op(tenant: str, key: str, request_hash: str, response: dict, expires_at: int) -> tuple:
    item = IdempotencyItem(keys.idempotency_pk(tenant, "inventory", key), "K", request_hash=request_hash,
                           status_code=201, response=jsonutil.dumps(response), expires_at=expires_at)
    return ("put", item, IdempotencyItem.pk.does_not_exist(), "idempotency")


def apply_movement(ops: list[tuple], checks: list[tuple] = (), idempotency: tuple | None = None) -> None:
    """Commit stock ops (plus ConditionChecks such as 'the part exists', plus the idempotency item) as
    one transaction. A replayed Idempotency-Key raises MovementReplayed with the first response."""
    tx = _Transaction()
    for op, item, condition, label in [*checks, *ops, *([idempotency] if idempotency else [])]:
        if op == "update":
            tx.update(item[0], item[1], condition, label)
        elif op == "check":
            tx.check(*item, condition, label)
        else:
            tx.put(item, condition, label)
    failed = tx.commit()
    if "idempotency" in failed:
        stored = failed["idempotency"] or {}
        if stored.get("request_hash") != idempotency[1].request_hash:
            raise ValidationFailed("Idempotency-Key was already used with a different request", code="idempotency_key_reused",
                                   details=[{"path": "headers.Idempotency-Key", "message": "reused with a different body"}])
        raise MovementReplayed(jsonutil.loads(stored["response"]))
    for label, old in failed.items():
        if hasattr(label, "raise_for"):
            label.raise_for(old)
    if failed:
        raise ValidationFailed("the movement refers to missing data",
                               details=[{"path": str(label), "message": "does not exist"} for label in failed])


def part_exists_check(tenant: str, part_form: str, part_id: str) -> tuple:
    condition = RecordItem.pk.exists() & (RecordItem.form == part_form) & (RecordItem.deleted == False)  # noqa: E712
    return ("check", (RecordItem, keys.record_pk(tenant, part_id), "R"), condition, "part")


def _stock_view(item: StockItem) -> dict:
    return {"warehouse": item.warehouse, "part": item.part, "on_hand": Decimal(str(item.on_hand)),
            "reorder_level": Decimal(str(item.reorder_level)) if item.reorder_level is not None else None,
            "updated_at": item.updated_at}


def get_stock(tenant: str, warehouse: str, part: str) -> dict | None:
    try:
        return _stock_view(StockItem.get(stock_pk(tenant, warehouse, part), "STK", consistent_read=True))
    except StockItem.DoesNotExist:
        return None


def list_stock(tenant: str, warehouse: str, limit: int = 500) -> list[dict]:
    return [_stock_view(i) for i in StockItem.by_warehouse.query(warehouse_list_pk(tenant, warehouse), limit=limit)]


def set_reorder_level(tenant: str, warehouse: str, part: str, level: Decimal, now: str) -> None:
    item = StockItem(stock_pk(tenant, warehouse, part), "STK")
    item.update(actions=[StockItem.reorder_level.set(_number(level)), StockItem.on_hand.add(0), StockItem.tenant.set(tenant),
                         StockItem.warehouse.set(warehouse), StockItem.part.set(part), StockItem.updated_at.set(now),
                         StockItem.opk.set(warehouse_list_pk(tenant, warehouse)), StockItem.lsk.set(part)])


def named_records(tenant: str, ids: list[str]) -> list:
    """The records ledger entries name (deleted ones too), one BatchGetItem per 100."""
    from .records import from_item
    out = []
    for start in range(0, len(ids), 100):
        out += [from_item(i) for i in RecordItem.batch_get([(keys.record_pk(tenant, r), "R") for r in ids[start:start + 100]])]
    return out


def list_ledger(tenant: str, warehouse: str, part: str, limit: int = 100) -> list[dict]:
    items = LedgerItem.query(stock_pk(tenant, warehouse, part), LedgerItem.sk.startswith("L#"),
                             scan_index_forward=False, limit=limit)
    return [jsonutil.loads(i.entry) for i in items]
