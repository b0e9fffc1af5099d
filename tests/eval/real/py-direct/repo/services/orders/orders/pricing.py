RATES = {"eu": 4.5, "us": 6.0}
UNIT_PRICE = 12.0


def shipping(region: str) -> float:
    rate = RATES[region]
    return rate * 1.2


def quote(qty: int, region: str) -> float:
    subtotal = qty * UNIT_PRICE
    return subtotal + shipping(region)
