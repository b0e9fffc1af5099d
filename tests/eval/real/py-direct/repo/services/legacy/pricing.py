def shipping(region: str) -> float:
    return 0.0
