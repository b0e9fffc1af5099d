// Package ringbuf is ringbuf v0.5.0, vendored.
package ringbuf

// Ring keeps the last values pushed.
type Ring struct {
	values []float64
	next   int
}

// New makes a ring of the given size.
func New(size int) *Ring {
	return &Ring{values: make([]float64, size)}
}

// Push adds a value, overwriting the oldest.
func (r *Ring) Push(v float64) {
	r.values[r.next%len(r.values)] = v
	r.next++
}
