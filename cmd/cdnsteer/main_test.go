package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"check", "-config", "../../zones/examples/live.toml"}, &out, &errOut); code != 0 {
		t.Fatalf("check of the example = %d: %s", code, errOut.String())
	}
	for _, want := range []string{"zone live.example.com.", "steer stream.live.example.com. -> policy live", "cdn akamai", "region kr: KR", "policy live: ttl 20"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}

	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[cdn.a]\ntarget = \"a.example.\"\n[policy.p.region.default]\nweights = { b = 1 }\n"), 0o644)
	out.Reset()
	errOut.Reset()
	if code := run([]string{"check", "-config", bad}, &out, &errOut); code != 1 {
		t.Fatalf("check of a bad file = %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], bad+":1: no [[zone]]") {
		t.Errorf("errors = %q, want two FILE:LINE lines", lines)
	}
	if !strings.Contains(errOut.String(), bad+`:4: policy "p" region "default": weight for unknown cdn "b"`) {
		t.Errorf("errors lack the weight error with its line:\n%s", errOut.String())
	}
}

func TestUsageAndVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage") {
		t.Errorf("no args = %d %q", code, errOut.String())
	}
	if code := run([]string{"frobnicate"}, &out, &errOut); code != 2 {
		t.Errorf("unknown command = %d", code)
	}
	if code := run([]string{"check"}, &out, &errOut); code != 2 {
		t.Errorf("check without -config = %d", code)
	}
	out.Reset()
	if code := run([]string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "cdnsteer ") || !strings.Contains(out.String(), "go go1.") {
		t.Errorf("version = %d %q", code, out.String())
	}
}
