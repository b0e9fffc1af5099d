ACCOUNTS = {"acc-1": 101, "acc-2": 102}


def account_id(record: dict[str, str]) -> int:
    return ACCOUNTS[record["external_id"]]
