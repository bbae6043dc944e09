package zones

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a policy file, located by line.
type Error struct {
	File string
	Line int // 0 when the problem has no single line
	Msg  string
}

// Error is FILE:LINE: message. A problem of the whole file (nothing to
// serve, say) is reported at line 1 so that every line has one shape for
// editors and scripts to jump to.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, max(e.Line, 1), e.Msg)
}

// Errors is every problem found in one policy file, in line order. A file
// is checked completely so that an operator fixes everything in one pass.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// ErrorList collects the problems of one TOML document, each at the line
// of its key path, so that an operator fixes them all in one pass; the
// policy compiler and the scenario binder both report through one.
type ErrorList struct {
	file  string
	lines LineIndex
	errs  Errors
}

// Add records a problem at the line of key path.
func (l *ErrorList) Add(path, format string, args ...any) {
	l.AddLine(l.lines.At(path), format, args...)
}

// AddLine records a problem at a line.
func (l *ErrorList) AddLine(line int, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// Line is the line of key path.
func (l *ErrorList) Line(path string) int { return l.lines.At(path) }

// Err returns the problems in line order, or nil when there are none.
func (l *ErrorList) Err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Line < l.errs[j].Line })
	return l.errs
}
