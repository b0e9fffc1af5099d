from orders.api import handle

if __name__ == "__main__":
    print("orders-api: handling request 7f3a")
    handle({"sku": "BOOK-1", "qty": 2, "region": "apac"})
