package sim

import (
	"regexp"
	"strconv"
	"strings"
)

// lines maps key paths of a scenario file to the line that sets them, so
// that errors can say FILE:LINE. The TOML library keeps positions to
// itself, so the document (already known to parse) is scanned again.
// Array-of-tables elements carry their index: "fault[1].cdn".
type lines map[string]int

var arrayIndex = regexp.MustCompile(`\[\d+\]`)

func indexLines(doc string) lines {
	idx := lines{}
	seen := map[string]int{} // array-of-tables path → elements so far
	table := ""
	depth := 0 // open brackets of a multi-line value
	for n, raw := range strings.Split(doc, "\n") {
		line := strings.TrimSpace(stripComment(raw))
		if depth > 0 {
			depth += brackets(line)
			continue
		}
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			array := strings.HasPrefix(line, "[[")
			name := strings.Trim(line, "[] \t")
			path := resolveArrays(seen, name)
			if array {
				i := seen[path]
				seen[path] = i + 1
				idx.set(path, n+1)
				path += "[" + strconv.Itoa(i) + "]"
			}
			for p := path; p != ""; p = parent(p) {
				idx.set(p, n+1)
			}
			table = path
			continue
		}
		eq := strings.Index(line, "=")
		if eq < 0 {
			continue
		}
		path := table
		for _, k := range strings.Split(strings.TrimSpace(line[:eq]), ".") {
			path = join(path, strings.Trim(strings.TrimSpace(k), `"'`))
			idx.set(path, n+1)
		}
		depth = brackets(line[eq+1:])
	}
	return idx
}

// resolveArrays gives each array-of-tables component of a header the
// index of its latest element, so [fault.x] after [[fault]] lands in it.
func resolveArrays(seen map[string]int, name string) string {
	path := ""
	for _, k := range strings.Split(name, ".") {
		path = join(path, strings.Trim(strings.TrimSpace(k), `"'`))
		if i, ok := seen[path]; ok {
			path += "[" + strconv.Itoa(i-1) + "]"
		}
	}
	// The last component is the table itself, not an element of it.
	return strings.TrimSuffix(path, lastIndex(path))
}

func lastIndex(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndex(p, "["); i >= 0 {
			return p[i:]
		}
	}
	return ""
}

// brackets is the net count of [ and { opened outside strings.
func brackets(s string) int {
	d := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			d++
		case c == ']' || c == '}':
			d--
		}
	}
	return d
}

func stripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			return s[:i]
		}
	}
	return s
}

func (l lines) set(path string, n int) {
	if _, ok := l[path]; !ok {
		l[path] = n
	}
}

// at is the line of path or of its nearest ancestor that has one; 0 when
// none does.
func (l lines) at(path string) int {
	for p := path; p != ""; p = parent(p) {
		if n, ok := l[p]; ok {
			return n
		}
	}
	return 0
}

// undecoded is the line of a key as the TOML library reports it (without
// array indexes): its first occurrence, else its nearest ancestor's.
func (l lines) undecoded(key string) int {
	for k := key; k != ""; k = parent(k) {
		best := 0
		for p, n := range l {
			if arrayIndex.ReplaceAllString(p, "") == k && (best == 0 || n < best) {
				best = n
			}
		}
		if best > 0 {
			return best
		}
	}
	return 0
}

func parent(p string) string {
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}
