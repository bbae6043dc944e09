// Package archtest checks the import rules of README's Layout section:
// dependencies point down the layers (cmd → dnsserver, admin, sim,
// report, demo, steering → zones, qoe → geo, health, rrl → internal),
// and the query path imports nothing that waits on the network. It reads import lines with
// go/parser, so a broken rule is reported at its FILE:LINE even when the
// bad import makes a cycle the compiler would refuse first.
package archtest

import (
	"bufio"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// layers ranks the module's top-level folders: a package may import the
// module's packages of a lower rank, and its own folder's.
var layers = map[string]int{
	"internal":  0,
	"geo":       1,
	"health":    1,
	"rrl":       1,
	"zones":     2,
	"qoe":       2, // the players' CMCD reports: health's signals, for steering
	"dnsserver": 3,
	"admin":     3,
	"sim":       3,
	"report":    3,
	"demo":      3,
	"fleet":     3,
	"steering":  3,
	"cmd":       4,
	"scripts":   4,
}

// peers are the imports allowed between folders of the same rank.
var peers = map[[2]string]bool{
	{"sim", "report"}: true, // the simulator writes the post-event report
	{"admin", "demo"}: true, // the live view turns the demo edges' knobs
}

// queryPath are the folders that answer DNS queries; blocking lists what
// their own files must not import: HTTP, and the sources that wait on it.
var queryPath = []string{"dnsserver", "rrl"}

var blocking = []string{"net/http", "admin", "health/probe", "health/prom", "health/escalation"}

// Violation is one import that breaks a rule.
type Violation struct {
	File   string // relative to the module root
	Line   int
	Import string
	Rule   string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s:%d: imports %s: %s", v.File, v.Line, v.Import, v.Rule)
}

// Check reads every non-test Go file under the module rooted at root and
// returns the imports that break the rules, in the order of the walk:
// by file name, then line.
func Check(root string) ([]Violation, error) {
	module, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	var out []Violation
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		v, err := checkFile(root, filepath.ToSlash(rel), module)
		out = append(out, v...)
		return err
	})
	return out, err
}

// checkFile checks the imports of one file, rel to the module root.
func checkFile(root, rel, module string) ([]Violation, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, rel), nil, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	from := topFolder(filepath.ToSlash(filepath.Dir(rel)))
	var out []Violation
	for _, spec := range f.Imports {
		imp, _ := strconv.Unquote(spec.Path.Value)
		if rule := importRule(from, imp, module); rule != "" {
			out = append(out, Violation{File: rel, Line: fset.Position(spec.Pos()).Line, Import: imp, Rule: rule})
		}
	}
	return out, nil
}

// importRule returns the rule that importing imp from a file under the
// top-level folder from breaks, or "".
func importRule(from, imp, module string) string {
	local, inModule := strings.CutPrefix(imp, module+"/")
	for _, q := range queryPath {
		if from != q {
			continue
		}
		for _, b := range blocking {
			if p := pathOf(imp, local, inModule); p == b || strings.HasPrefix(p, b+"/") {
				return fmt.Sprintf("the query path (%s) imports nothing that waits on the network", q)
			}
		}
	}
	if !inModule {
		return ""
	}
	to := topFolder(local)
	if to == from {
		return ""
	}
	rf, okf := layers[from]
	rt, okt := layers[to]
	switch {
	case !okf || !okt:
		return fmt.Sprintf("%s and %s must each have a layer in README's Layout and in archtest", from, to)
	case rt < rf, rf == rt && peers[[2]string{from, to}]:
		return ""
	case rf == rt:
		return fmt.Sprintf("%s does not import its peer %s", from, to)
	}
	return fmt.Sprintf("%s never imports %s: dependencies point down the layers", from, to)
}

// pathOf is imp as the rules spell it: module packages by their folder.
func pathOf(imp, local string, inModule bool) string {
	if inModule {
		return local
	}
	return imp
}

// topFolder is the first element of a slash-separated path.
func topFolder(rel string) string {
	top, _, _ := strings.Cut(rel, "/")
	return top
}

// modulePath reads the module line of root/go.mod.
func modulePath(root string) (string, error) {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`), nil
		}
	}
	return "", fmt.Errorf("%s/go.mod: no module line", root)
}
