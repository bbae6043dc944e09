package zones

import (
	"regexp"
	"strconv"
	"strings"
)

// LineIndex maps key paths of a TOML document to the line that defines
// them, so that validation errors can say FILE:LINE. It serves the policy
// file here and the simulator's scenario file. The TOML library keeps
// key positions private, so the document is scanned a second time here; it
// has already parsed, so the scanner may assume well-formed input.
//
// Paths name array-of-table elements by index: "zone[1].steer[0].name".
type LineIndex map[string]int

var indexSuffix = regexp.MustCompile(`\[\d+\]`)

// IndexLines indexes a document that has already parsed.
func IndexLines(doc string) LineIndex {
	idx := LineIndex{}
	arrays := map[string]int{} // resolved array path → elements seen
	current := ""
	lines := strings.Split(doc, "\n")
	for n := 0; n < len(lines); n++ {
		line := strings.TrimSpace(lines[n])
		if line == "" || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			isArray := strings.HasPrefix(line, "[[")
			inner := strings.TrimLeft(line, "[")
			if end := closingBracket(inner); end >= 0 {
				inner = inner[:end]
			}
			parts := splitKey(inner)
			if len(parts) == 0 {
				continue
			}
			resolved := resolvePrefix(arrays, parts[:len(parts)-1])
			// Implicitly created parent tables are located at their
			// first mention.
			for p := resolved; p != ""; p = parentPath(p) {
				idx.set(p, n+1)
			}
			resolved = join(resolved, parts[len(parts)-1])
			if isArray {
				i := arrays[resolved]
				arrays[resolved] = i + 1
				idx.set(resolved, n+1)
				resolved += "[" + strconv.Itoa(i) + "]"
			}
			current = resolved
			idx.set(current, n+1)
			continue
		}
		eq := keyEnd(line)
		if eq < 0 {
			continue
		}
		path := current
		for _, p := range splitKey(line[:eq]) {
			path = join(path, p)
			idx.set(path, n+1)
		}
		// A value may continue over several lines (arrays, multi-line
		// strings); skip its continuation so it is not read as keys.
		n += continuationLines(lines[n:], eq)
	}
	return idx
}

func (idx LineIndex) set(path string, line int) {
	if _, ok := idx[path]; !ok {
		idx[path] = line
	}
}

// At returns the line of path, or of its nearest ancestor, or 0.
func (idx LineIndex) At(path string) int {
	for path != "" {
		if l, ok := idx[path]; ok {
			return l
		}
		cut := strings.LastIndexAny(path, ".[")
		if cut < 0 {
			break
		}
		path = path[:cut]
	}
	return 0
}

// First returns the first line of the key as the TOML library reports
// undecoded keys (without array indexes), or of its nearest ancestor, or 0.
func (idx LineIndex) First(key string) int {
	for k := key; k != ""; k = parentPath(k) {
		best := 0
		for p, l := range idx {
			if indexSuffix.ReplaceAllString(p, "") == k && (best == 0 || l < best) {
				best = l
			}
		}
		if best > 0 {
			return best
		}
	}
	return 0
}

func parentPath(p string) string {
	cut := strings.LastIndexAny(p, ".[")
	if cut < 0 {
		return ""
	}
	return p[:cut]
}

func resolvePrefix(arrays map[string]int, parts []string) string {
	resolved := ""
	for _, p := range parts {
		resolved = join(resolved, p)
		if n, ok := arrays[resolved]; ok && n > 0 {
			resolved += "[" + strconv.Itoa(n-1) + "]"
		}
	}
	return resolved
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// splitKey splits a dotted TOML key into its parts, honouring quotes.
func splitKey(s string) []string {
	var parts []string
	var b strings.Builder
	quote := byte(0)
	flush := func() {
		parts = append(parts, strings.TrimSpace(b.String()))
		b.Reset()
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				c = s[i]
			}
			b.WriteByte(c)
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			flush()
		case c == ' ' || c == '\t':
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return parts
}

// keyEnd is the index of the '=' that ends the key of a key/value line.
func keyEnd(line string) int {
	quote := byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'':
			quote = c
		case c == '=':
			return i
		}
	}
	return -1
}

func closingBracket(s string) int {
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'':
			quote = c
		case c == ']':
			return i
		}
	}
	return -1
}

// continuationLines counts the lines after lines[0] that belong to the
// value starting after column eq of lines[0].
func continuationLines(lines []string, eq int) int {
	depth := 0
	multi := ""
	for n, line := range lines {
		if n == 0 {
			line = line[eq+1:]
		}
		for i := 0; i < len(line); i++ {
			if multi != "" {
				if strings.HasPrefix(line[i:], multi) {
					i += len(multi) - 1
					multi = ""
				}
				continue
			}
			c := line[i]
			switch {
			case strings.HasPrefix(line[i:], `"""`) || strings.HasPrefix(line[i:], `'''`):
				multi = line[i : i+3]
				i += 2
			case c == '"' || c == '\'':
				// A single-line string: skip to its end.
				for j := i + 1; j < len(line); j++ {
					if line[j] == '\\' && c == '"' {
						j++
						continue
					}
					if line[j] == c {
						i = j
						break
					}
				}
			case c == '#':
				i = len(line)
			case c == '[' || c == '{':
				depth++
			case c == ']' || c == '}':
				depth--
			}
		}
		if depth <= 0 && multi == "" {
			return n
		}
	}
	return len(lines) - 1
}
