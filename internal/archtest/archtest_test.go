package archtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayering: the module's imports keep README's layering rules.
func TestLayering(t *testing.T) {
	v, err := Check(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range v {
		t.Error(x)
	}
}

// TestBadImportsAreFound: each kind of rule catches an import that breaks
// it, in a small module written for the test, at the import's line.
func TestBadImportsAreFound(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.22\n")
	write("zones/z.go", "package zones\n\nimport (\n\t\"fmt\"\n\t_ \"example.com/m/dnsserver\"\n)\n\nvar _ = fmt.Sprint\n")
	write("health/h.go", "package health\n\nimport _ \"example.com/m/zones\"\n")
	write("dnsserver/d.go", "package dnsserver\n\nimport (\n\t_ \"example.com/m/zones\"\n\t_ \"net/http\"\n\t_ \"example.com/m/health/probe\"\n)\n")
	write("dnsserver/d_test.go", "package dnsserver\n\nimport _ \"net/http\"\n")
	write("sim/s.go", "package sim\n\nimport (\n\t_ \"example.com/m/report\"\n\t_ \"example.com/m/dnsserver\"\n)\n")
	write("cmd/x/main.go", "package main\n\nimport _ \"example.com/m/admin\"\n")
	// The escalation sender talks HTTP: the query path may not import it;
	// it may import the engine it follows, beside it in health.
	write("rrl/r.go", "package rrl\n\nimport _ \"example.com/m/health/escalation\"\n")
	write("health/escalation/e.go", "package escalation\n\nimport _ \"example.com/m/health\"\n")
	write("zones/testdata/bad.go", "package bad\n\nimport _ \"example.com/m/cmd/x\"\n")

	v, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range v {
		got = append(got, fmt.Sprintf("%s:%d %s", x.File, x.Line, x.Import))
	}
	want := []string{
		"dnsserver/d.go:5 net/http",
		"dnsserver/d.go:6 example.com/m/health/probe",
		"health/h.go:3 example.com/m/zones",
		"rrl/r.go:3 example.com/m/health/escalation",
		"sim/s.go:5 example.com/m/dnsserver",
		"zones/z.go:5 example.com/m/dnsserver",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
