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

// tomlDecode is the TOML library's decoder; a test watches what it is
// given.
var tomlDecode = toml.Decode

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
	if msg := scanScale(data); msg != "" {
		return nil, Errors{{File: name, Msg: msg}}
	}
	f := newFile()
	el, err := decodePolicy(name, data, f)
	if err != nil {
		return nil, err
	}
	c := &compiler{el: el, dir: filepath.Dir(name), where: map[string]string{}}
	snap := c.compile(f)
	c.checkScale(snap)
	if err := el.Err(); err != nil {
		return nil, err
	}
	snap.File = name
	snap.Hash = sha256.Sum256(data)
	snap.SteeringHash, _ = steeringHash(f)
	return snap, nil
}

// DecodeTOML decodes a TOML document into v strictly. A document that does
// not decode comes back as Errors at its line; otherwise the ErrorList
// returned already holds one "unknown key" problem for each key v has no
// field for (once, even when every element of an array table repeats it).
func DecodeTOML(name string, data []byte, v any) (*ErrorList, error) {
	doc := string(data)
	md, err := tomlDecode(doc, v)
	if err != nil {
		return nil, decodeError(name, err)
	}
	return unknownKeys(name, doc, undecoded(md)), nil
}

// decodeError places an error of the TOML library at its line.
func decodeError(name string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return Errors{{File: name, Line: pe.Position.Line, Msg: strings.TrimPrefix(pe.Message, "toml: ")}}
	}
	// Type mismatches come as plain errors that name the line.
	if m := decodeErrLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Errors{{File: name, Line: line, Msg: m[2]}}
	}
	return Errors{{File: name, Msg: err.Error()}}
}

func undecoded(md toml.MetaData) []string {
	var keys []string
	for _, k := range md.Undecoded() {
		keys = append(keys, k.String())
	}
	return keys
}

// unknownKeys is the ErrorList of doc with one problem per unknown key.
func unknownKeys(name, doc string, unknown []string) *ErrorList {
	el := &ErrorList{file: name, doc: doc}
	sort.Strings(unknown)
	for i, k := range unknown {
		if i > 0 && unknown[i-1] == k {
			continue
		}
		el.AddLine(el.index().First(k), "unknown key %q", k)
	}
	return el
}
