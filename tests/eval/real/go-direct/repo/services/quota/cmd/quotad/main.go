package main

import (
	"fmt"

	"example.com/quota/internal/limits"
)

func serve(table *limits.Table, plan string) int {
	return table.Record(plan)
}

func main() {
	fmt.Println("quotad: serving")
	fmt.Println(serve(&limits.Table{}, "pro"))
}
