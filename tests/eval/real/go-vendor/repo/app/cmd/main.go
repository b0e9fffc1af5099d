package main

import (
	"fmt"

	"github.com/acme/metricsd/app/metrics"
	"github.com/acme/metricsd/third_party/ringbuf"
)

func main() {
	rings := map[string]*ringbuf.Ring{"cpu": ringbuf.New(60)}
	metrics.Observe(rings, "mem", 1.5)
	fmt.Println("metricsd: ok")
}
