package prom

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// realWebConfig is Prometheus's --web.config.file: HTTPS with a client
// certificate required from the CA, and basic auth.
const realWebConfig = `tls_server_config:
  cert_file: %s
  key_file: %s
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: %s
basic_auth_users:
  cdnsteer: %s
`

// TestRealPrometheusWithAuth runs the source against a real Prometheus
// that serves its API over HTTPS only to clients with a certificate from
// the CA and the right basic auth password (its --web.config.file), as a
// Prometheus reached across a network should. scripts/prometheus-test.sh
// runs it.
func TestRealPrometheusWithAuth(t *testing.T) {
	bin := os.Getenv("CDNSTEER_PROMETHEUS")
	if bin == "" {
		t.Skip("set CDNSTEER_PROMETHEUS=/usr/bin/prometheus")
	}
	ctx := t.Context()
	p := newPKI(t)
	const password = "correct horse battery staple"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	pwFile := p.write(t, "password", password+"\n")
	auth := Auth{BasicAuthUser: "cdnsteer", BasicAuthPasswordFile: pwFile, CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey}
	rt, err := auth.transport()
	if err != nil {
		t.Fatal(err)
	}
	exp := newExporter(t, map[string]float64{`cdn_ttfb_ms{cdn="fastly",region="kr"}`: 850})
	srv := startPrometheusWeb(t, bin, strings.TrimPrefix(exp.URL, "http://"),
		fmt.Sprintf(realWebConfig, p.serverCert, p.serverKey, p.caFile, hash), &http.Client{Transport: rt, Timeout: 2 * time.Second})
	url := "https://" + srv.addr
	cfg := Config{URL: url, Timeout: 2 * time.Second, Queries: map[string]string{"ttfb_ms": "cdn_ttfb_ms"}, Stamp: StampQuery, Auth: auth}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ts := newTestSource(t, cfg)
	start := time.Now()
	err = await(ctx, 30*time.Second, func() error {
		ts.got.take()
		if err := ts.Poll(ctx); err != nil {
			return err
		}
		if d := describeAll(ts.got.take()); d != "fastly/kr ttfb_ms=850 n=1 prometheus" {
			return fmt.Errorf("signals: %q", d)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("through HTTPS, a client certificate and basic auth: %v", err)
	}
	t.Logf("prometheus %s: the signal through HTTPS, mTLS and basic auth in %v", srv.addr, time.Since(start).Round(time.Millisecond))

	// Each credential is needed: a wrong password, no client
	// certificate, no CA, plain HTTP.
	wrong := p.write(t, "wrong", "battery staple")
	for name, c := range map[string]Config{
		"wrong password":        {URL: url, Auth: Auth{BasicAuthUser: "cdnsteer", BasicAuthPasswordFile: wrong, CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey}},
		"no client certificate": {URL: url, Auth: Auth{BasicAuthUser: "cdnsteer", BasicAuthPasswordFile: pwFile, CAFile: p.caFile}},
		"no CA":                 {URL: url, Auth: Auth{BasicAuthUser: "cdnsteer", BasicAuthPasswordFile: pwFile, CertFile: p.clientCert, KeyFile: p.clientKey}},
		"no basic auth":         {URL: url, Auth: Auth{CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey}},
		"plain http":            {URL: "http://" + srv.addr},
	} {
		c.Timeout, c.Queries, c.Stamp = 2*time.Second, cfg.Queries, StampQuery
		err := newTestSource(t, c).Poll(ctx)
		if err == nil {
			t.Errorf("%s: poll succeeded", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		if name == "wrong password" || name == "no basic auth" {
			if !strings.Contains(err.Error(), "401") {
				t.Errorf("%s: %v, want a 401", name, err)
			}
		}
	}
}
