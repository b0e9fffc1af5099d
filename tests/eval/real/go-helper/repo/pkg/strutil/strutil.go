// Package strutil holds the string helpers every service shares.
package strutil

// Prefix returns the first n bytes of s; callers keep n within s.
func Prefix(s string, n int) string {
	return s[:n]
}
