package sim

import (
	"fmt"
	"sort"

	"github.com/cdnsteer/cdnsteer/zones"
)

// problems collects every error of a scenario file with its line, so an
// operator fixes them all in one pass. They come out as zones.Errors:
// FILE:LINE: message, the shape `cdnsteer check` uses.
type problems struct {
	file  string
	lines zones.LineIndex
	errs  zones.Errors
}

// add records a problem at the line of key path at.
func (p *problems) add(at, format string, args ...any) {
	p.errs = append(p.errs, &zones.Error{File: p.file, Line: p.lines.At(at), Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) addLine(line int, format string, args ...any) {
	p.errs = append(p.errs, &zones.Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
	return p.errs
}
