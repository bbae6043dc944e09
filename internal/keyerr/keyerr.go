// Package keyerr is the one error type for a bad key, wherever keys are
// written: a policy section (probe, Prometheus, rate limiting, scoring),
// a region table, an API request or a demo knob. The package that checks
// a value names its key as written there; the caller that knows more
// places it: the policy loader turns the key into FILE:LINE, the HTTP API
// into the request field at fault. It imports nothing of cdnsteer so that
// every package can use it.
package keyerr

import (
	"errors"
	"fmt"
)

// Error is one bad key.
type Error struct {
	// Key is spelt as where it was written: "slip", "exempt[2]",
	// "score.ttfb", "signals[2].cdn".
	Key string
	// Related are other keys the problem concerns, most to blame first, so
	// that a loader can point at a line the file has when it leaves Key
	// to its default (a timeout longer than a defaulted interval, say).
	Related []string
	Msg     string
}

// Error is "key: message".
func (e *Error) Error() string { return e.Key + ": " + e.Msg }

// New is the error of key with a formatted message.
func New(key, format string, args ...any) *Error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Keys lists the keys e concerns, Key first.
func (e *Error) Keys() []string { return append([]string{e.Key}, e.Related...) }

// Split lists the key errors that err holds, alone or put together by
// errors.Join (nested joins included), in order, and apart from them
// every other error.
func Split(err error) (keys []*Error, others []error) {
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if ke, ok := errors.AsType[*Error](err); ok {
			keys = append(keys, ke)
			return
		}
		others = append(others, err)
	}
	walk(err)
	return keys, others
}
