package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/geo/geotest"
)

// readyz is the readiness answer: its status and decoded body.
func readyz(t *testing.T, base string) (int, map[string]string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]string
	json.Unmarshal(raw, &body)
	return resp.StatusCode, body
}

// A GeoIP database the policy names but that is not there fails /readyz
// with the file and the error in the body, and is shown as not loaded on
// /metrics; once it appears and loads, the server is ready and the
// database's build time and networks are on /metrics.
func TestReadyzWaitsForTheGeoDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "GeoLite2-Country.mmdb")
	st := startServe(t, fmt.Sprintf(edgePolicy, fmt.Sprintf("[geo]\ndatabase = %q\n[cdn.akamai]\ntarget = \"a.example.net.\"\n[cdn.cloudfront]\ntarget = \"c.example.net.\"\n[cdn.edgio]\ntarget = \"e.example.net.\"\n[cdn.fastly]\ntarget = \"f.example.net.\"\n", db)))
	code, body := readyz(t, st.HTTP)
	if code != http.StatusServiceUnavailable || !strings.Contains(body["reason"], "country database "+db+" not loaded") {
		t.Fatalf("readyz without the database: %d %v", code, body)
	}
	if m := metricsText(t, st.HTTP); !strings.Contains(m, `cdnsteer_geo_database_loaded{database="country"} 0`) {
		t.Errorf("metrics without the database:\n%s", grepLines(m, "geo_database"))
	}
	// Written whole, then moved into place, as geoipupdate does.
	tmp := filepath.Join(dir, "db.tmp")
	if err := os.WriteFile(tmp, geotest.Build(t, geotest.Country, []geotest.Network{{CIDR: "1.16.0.0/16", Country: "KR", Continent: "AS"}, {CIDR: "3.0.0.0/8", Country: "US", Continent: "NA"}}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, db); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body = readyz(t, st.HTTP)
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz once the database is there: %d %v", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := metricsText(t, st.HTTP)
	for _, want := range []string{`cdnsteer_geo_database_loaded{database="country"} 1`, `cdnsteer_geo_database_networks{database="country"} 2`, `cdnsteer_geo_database_build_timestamp_seconds{database="country"} `} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(m, "geo_database"))
		}
	}
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// -log-format json gives one JSON object a line; -log-level drops what is
// below it; bad values are refused before anything starts.
func TestLogFlags(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "json", "warn")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "k", 1)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["msg"] != "shown" || line["level"] != "WARN" || line["k"] != 1.0 {
		t.Errorf("json log %q: %v", buf.String(), err)
	}
	buf.Reset()
	log, _ = newLogger(&buf, "logfmt", "debug")
	log.Debug("seen")
	if !strings.Contains(buf.String(), `level=DEBUG msg=seen`) {
		t.Errorf("logfmt debug: %q", buf.String())
	}
	for _, args := range [][]string{{"-log-format", "xml"}, {"-log-level", "loud"}, {"-log-level", "info+2"}} {
		var stderr bytes.Buffer
		if code := serve(append(args, "-config", "nonexistent.toml"), &stderr); code != 2 || !strings.Contains(stderr.String(), args[0]) {
			t.Errorf("serve %v: exit %d, %q", args, code, stderr.String())
		}
	}
}
