from app.common.convert import from_cents, to_cents


def total(items: list[dict[str, str]]) -> str:
    sum_cents = 0
    for item in items:
        cents = to_cents(item.get("price"))
        sum_cents += cents
    return from_cents(sum_cents)
