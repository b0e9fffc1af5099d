"""tinyini 0.3.1 (vendored): key=value pairs separated by semicolons."""


def parse_pairs(line: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for part in line.split(";"):
        key, value = part.split("=", 1)
        result[key.strip()] = value.strip()
    return result
