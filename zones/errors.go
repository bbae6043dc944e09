package zones

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
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
	file string
	doc  string
	// lines indexes doc when a line is first asked for: a document
	// without problems seldom needs it, and for a 1,000-name policy it
	// is 160,000 key paths.
	lines LineIndex
	errs  Errors
}

// index is the document's LineIndex.
func (l *ErrorList) index() LineIndex {
	if l.lines == nil {
		l.lines = IndexLines(l.doc)
	}
	return l.lines
}

// Add records a problem at the line of key path.
func (l *ErrorList) Add(path, format string, args ...any) {
	l.AddLine(l.index().At(path), format, args...)
}

// AddLine records a problem at a line.
func (l *ErrorList) AddLine(line int, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// Line is the line of key path.
func (l *ErrorList) Line(path string) int { return l.index().At(path) }

// keyErrors records err's problems in section: each *keyerr.Error at the
// line of its key (or of a related key, or of the nearest table holding
// one, that the file sets) as "WHO KEYS.KEY: message", where who says
// whose section it is (`cdn "a": `) and keys is the key path the checker
// does not know it sits under ("probe."); any other error at the section.
func (c *compiler) keyErrors(section, who, keys string, err error) {
	kes, others := keyerr.Split(err)
	for _, e := range kes {
		c.el.Add(c.keyAt(section, e), "%s%s%s: %s", who, keys, e.Key, e.Msg)
	}
	for _, e := range others {
		c.el.Add(section, "%s%v", who, e)
	}
}

// keyAt is the key path of the first key e concerns that the file sets,
// or of its nearest ancestor inside section (an inline table holding it,
// say), else section's. A key left to its default has no line of its own.
func (c *compiler) keyAt(section string, e *keyerr.Error) string {
	for _, k := range e.Keys() {
		for p := section + "." + k; len(p) > len(section); p = parentPath(p) {
			if _, ok := c.el.index()[p]; ok {
				return p
			}
		}
	}
	return section
}

// Err returns the problems in line order, or nil when there are none.
func (l *ErrorList) Err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Line < l.errs[j].Line })
	return l.errs
}
