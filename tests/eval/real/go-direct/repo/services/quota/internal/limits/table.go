package limits

// Table counts requests per plan.
type Table struct {
	usage map[string]int
}

func (t *Table) ensure() {
	if t.usage == nil {
		t.usage = map[string]int{}
	}
}

func (t *Table) counts() map[string]int {
	t.ensure()
	return t.usage
}

// Record counts one request of a plan.
func (t *Table) Record(plan string) int {
	t.usage[plan]++
	return t.usage[plan]
}
