//go:build linux

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestWhatRunsIsShown: the SHA-256 of the policy file (what sha256sum
// prints) is in check's summary, the start and reload log lines,
// cdnsteer_policy_info and GET /api/v1/state, and follows a reload; the
// binary's version and Go version are in cdnsteer_build_info.
func TestWhatRunsIsShown(t *testing.T) {
	path := writeSocketsPolicy(t)
	sum := func() string {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(raw)
		return hex.EncodeToString(h[:])
	}
	first := sum()

	var out, errb bytes.Buffer
	if code := run([]string{"check", "-config", path}, &out, &errb); code != 0 || !strings.Contains(out.String(), "sha256 "+first+"\n") {
		t.Errorf("check: exit %d, output lacks \"sha256 %s\":\n%s%s", code, first, out.String(), errb.String())
	}

	p := startProc(t, path, false, nil)
	p.await(t, regexp.MustCompile(`msg="policy loaded" .*sha256=`+first), 20*time.Second)
	base := "http://" + p.await(t, regexp.MustCompile(`msg="http endpoint up" addr=(\S+)`), 20*time.Second)[1]
	p.await(t, dnsListening, 20*time.Second)

	check := func(hash string) {
		t.Helper()
		metrics := get(t, base+"/metrics")
		want := regexp.MustCompile(`cdnsteer_policy_info\{file="` + regexp.QuoteMeta(path) + `",hash="` + hash + `",steering_hash="[0-9a-f]{64}"\} 1`)
		if !want.MatchString(metrics) {
			t.Errorf("/metrics lacks %s", want)
		}
		if n := strings.Count(metrics, "cdnsteer_policy_info{"); n != 1 {
			t.Errorf("/metrics has %d cdnsteer_policy_info series, want 1", n)
		}
		build := regexp.MustCompile(`cdnsteer_build_info\{go_version="([^"]+)",revision="([^"]+)",version="([^"]+)"\} 1`).FindStringSubmatch(metrics)
		if build == nil || build[1] != runtime.Version() || build[3] != "dev" {
			t.Errorf("cdnsteer_build_info = %v, want go_version %s, version dev", build, runtime.Version())
		}
		var state struct {
			Hash     string `json:"policy_sha256"`
			Policies []any  `json:"policies"`
		}
		if err := json.Unmarshal([]byte(get(t, base+"/api/v1/state")), &state); err != nil {
			t.Fatal(err)
		}
		if state.Hash != hash || len(state.Policies) != 1 {
			t.Errorf("/api/v1/state: policy_sha256 %q and %d policies, want %s and the engine's view", state.Hash, len(state.Policies), hash)
		}
	}
	check(first)

	edited := strings.Replace(socketsPolicy, "[policy.live.region.default]", "[policy.live]\nttl = 7\n[policy.live.region.default]", 1)
	if err := os.WriteFile(path+".new", []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	second := sum()
	p.await(t, regexp.MustCompile(`msg="policy reloaded" .*sha256=`+second), 20*time.Second)
	// The handler takes the new snapshot from the publisher.
	await(t, "the new hash in /api/v1/state", 10*time.Second, func() bool {
		return strings.Contains(get(t, base+"/api/v1/state"), second)
	})
	check(second)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}
