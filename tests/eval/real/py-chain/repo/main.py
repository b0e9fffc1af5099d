from worker.tasks.sync import run

if __name__ == "__main__":
    run([{"id": "acc-1", "name": "Acme"}])
