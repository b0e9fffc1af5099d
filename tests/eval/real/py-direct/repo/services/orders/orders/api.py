from orders.pricing import quote


def handle(request: dict[str, object]) -> dict[str, float]:
    region = str(request["region"])
    qty = int(str(request["qty"]))
    total = quote(qty, region)
    return {"total": total}
