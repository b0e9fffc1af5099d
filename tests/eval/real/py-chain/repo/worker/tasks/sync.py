from worker.tasks.mapping import account_id


class SyncError(Exception):
    pass


def run(records: list[dict[str, str]]) -> list[int]:
    done = []
    for record in records:
        try:
            done.append(account_id(record))
        except KeyError as exc:
            raise SyncError(f"cannot map record {record.get('name')}") from exc
    return done
