package main

import (
	"fmt"

	"example.com/ordersgo/internal/orders"
)

func main() {
	fmt.Println(orders.ShortRef("AC-77", "ACME"))
}
