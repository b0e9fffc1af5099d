package metrics

import "github.com/acme/metricsd/third_party/ringbuf"

func ring(rings map[string]*ringbuf.Ring, name string) *ringbuf.Ring {
	if rings[name] == nil {
		rings[name] = ringbuf.New(60)
	}
	return rings[name]
}

// Observe records a sample of a named metric.
func Observe(rings map[string]*ringbuf.Ring, name string, v float64) {
	rings[name].Push(v)
}
