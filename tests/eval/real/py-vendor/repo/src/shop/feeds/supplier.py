from shop._vendor.tinyini import parse_pairs


def read_feed(text: str) -> dict[str, str]:
    return parse_pairs(text.strip())
