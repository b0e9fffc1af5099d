"""Money conversions shared by every service."""


def to_cents(amount: str | float | None) -> int:
    value = float(amount)  # type: ignore[arg-type]
    return round(value * 100)


def from_cents(cents: int) -> str:
    return f"{cents / 100:.2f}"
