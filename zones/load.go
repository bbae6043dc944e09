package zones

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

var decodeErrLine = regexp.MustCompile(`^toml: line (\d+)(?: \(last key "[^"]*"\))?: (.*)$`)

// Load reads, validates and compiles the policy file at path. On any
// problem it returns Errors listing every one of them with its line.
func Load(path string) (*Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return Parse(path, data)
}

// Parse validates and compiles a policy document. name is used in error
// messages; relative paths in the policy are resolved against its folder.
func Parse(name string, data []byte) (*Snapshot, error) {
	var f File
	doc := string(data)
	md, err := toml.Decode(doc, &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, Errors{{File: name, Line: pe.Position.Line, Msg: strings.TrimPrefix(pe.Message, "toml: ")}}
		}
		// Type mismatches come as plain errors that name the line.
		if m := decodeErrLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, Errors{{File: name, Line: line, Msg: m[2]}}
		}
		return nil, Errors{{File: name, Msg: err.Error()}}
	}
	el := &errorList{file: name, lines: IndexLines(doc)}
	var unknown []string
	for _, k := range md.Undecoded() {
		unknown = append(unknown, k.String())
	}
	sort.Strings(unknown)
	for i, k := range unknown {
		// Keys of array tables are reported once per element; once is
		// enough.
		if i > 0 && unknown[i-1] == k {
			continue
		}
		el.addLine(el.lines.First(k), "unknown key %q", k)
	}
	c := &compiler{el: el, dir: filepath.Dir(name), where: map[string]string{}}
	snap := c.compile(&f)
	if len(el.errs) > 0 {
		sort.SliceStable(el.errs, func(i, j int) bool { return el.errs[i].Line < el.errs[j].Line })
		return nil, el.errs
	}
	snap.File = name
	snap.Hash = sha256.Sum256(data)
	return snap, nil
}
