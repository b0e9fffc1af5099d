from app.billing.invoice import total

if __name__ == "__main__":
    print(total([{"sku": "A-1", "unit_price": "3.50"}, {"sku": "B-2", "unit_price": "1.25"}]))
