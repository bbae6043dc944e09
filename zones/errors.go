package zones

import (
	"fmt"
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

// errorList collects errors while compiling, locating each by key path.
type errorList struct {
	file  string
	lines LineIndex
	errs  Errors
}

func (l *errorList) add(path, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.file, Line: l.lines.At(path), Msg: fmt.Sprintf(format, args...)})
}

func (l *errorList) addLine(line int, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}
