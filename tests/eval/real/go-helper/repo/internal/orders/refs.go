package orders

import "example.com/ordersgo/pkg/strutil"

// ShortRef is the reference shown to the customer.
func ShortRef(ref, customer string) string {
	return strutil.Prefix(ref, len(customer)+4)
}
