package admin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// withHost sends a GET with a Host header of its own.
func (f *fixture) withHost(path, host string) reply {
	f.t.Helper()
	req, err := http.NewRequest("GET", f.base+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Authorization", "Bearer "+testReadToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, header: resp.Header, body: b}
}

// A name that is not the server's (DNS rebinding) is refused with 421
// and a JSON error; health checks answer whatever the name.
func TestHostChecked(t *testing.T) {
	f := newFixture(t)
	_, port, _ := net.SplitHostPort(f.srv.Addr().String())
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST.:" + port, "[::1]:" + port, "localhost"} {
		if r := f.withHost("/api/v1/state", host); r.code != http.StatusOK {
			t.Errorf("Host %s: %d %s", host, r.code, r.body)
		}
	}
	for _, host := range []string{"evil.example.com:" + port, "evil.example.com", "127.0.0.2:" + port, "localhost.evil.example.com"} {
		for _, p := range []string{"/api/v1/state", "/", "/metrics"} {
			r := f.withHost(p, host)
			expectError(t, r, http.StatusMisdirectedRequest, "")
			if msg, _ := r.json(t)["error"].(string); !strings.Contains(msg, "http_allowed_hosts") {
				t.Errorf("Host %s: %q", host, msg)
			}
		}
		for _, p := range []string{"/healthz", "/readyz"} {
			if r := f.withHost(p, host); r.code != http.StatusOK {
				t.Errorf("%s with Host %s: %d", p, host, r.code)
			}
		}
	}
	// A list of the operator's replaces the default.
	g := newFixture(t, func(c *Config) { c.AllowedHosts = []string{"ns1.example.net", "10.53.0.1"} })
	if r := g.withHost("/api/v1/state", "NS1.example.net:8053"); r.code != http.StatusOK {
		t.Errorf("listed name: %d %s", r.code, r.body)
	}
	if r := g.withHost("/api/v1/state", g.srv.Addr().String()); r.code != http.StatusMisdirectedRequest {
		t.Errorf("bind address not listed: %d", r.code)
	}
}

// Beyond loopback the endpoint needs TLS and tokens, and cannot open its
// reads; CheckAccess says so without binding.
func TestNonLoopbackRefused(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	writeFile(t, tokens, testTokens)
	cert, key := writeCert(t, dir, "c", "ns1.example.net", nil)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing", Config{Addr: "10.53.0.1:8053"}, "set TLS (http_tls_cert, http_tls_key) and tokens (admin_token_file)"},
		{"no tls", Config{Addr: "0.0.0.0:8053", TokenFile: tokens}, "set TLS (http_tls_cert, http_tls_key)"},
		{"no tokens", Config{Addr: "[2001:db8::1]:8053", TLSCert: cert, TLSKey: key}, "set tokens (admin_token_file)"},
		{"open reads", Config{Addr: "10.53.0.1:8053", TokenFile: tokens, TLSCert: cert, TLSKey: key, OpenReads: true}, "http_open_reads is allowed on loopback binds only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Listen(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Listen: %v, want %q", err, tc.want)
			}
			if _, err := CheckAccess(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckAccess: %v, want %q", err, tc.want)
			}
		})
	}
	acc, err := CheckAccess(Config{Addr: "10.53.0.1:8053", TokenFile: tokens, TLSCert: cert, TLSKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if acc.Loopback || !acc.TLS || acc.OpenReads || acc.OpenMetrics || acc.Write != 1 || acc.Read != 1 || len(acc.Warnings) != 0 ||
		strings.Join(acc.AllowedHosts, " ") != "10.53.0.1 ns1.example.net 127.0.0.1" {
		t.Errorf("access: %+v", acc)
	}
}

// writeCert writes a self-signed certificate for name (and 127.0.0.1)
// and its key; with signer set, the key written is signer instead (a key
// that does not match).
func writeCert(t *testing.T, dir, base, name string, signer *ecdsa.PrivateKey) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		DNSNames:     []string{name},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if signer != nil {
		key = signer
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, base+".crt"), filepath.Join(dir, base+".key")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})))
	return certFile, keyFile
}

// The endpoint over HTTPS with a generated certificate: tokens work as
// over HTTP, plain HTTP gets nothing, and a new certificate is served
// after ReloadToken.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "a", "admin.test", nil)
	f := newFixture(t, func(c *Config) { c.TLSCert, c.TLSKey = cert, key })
	if !f.srv.TLS() {
		t.Fatal("not TLS")
	}
	addr := f.srv.Addr().String()
	client := func(certFile string) *http.Client {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(readFile(t, certFile)))
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	get := func(c *http.Client, url, token string) (int, *tls.ConnectionState) {
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, resp.TLS
	}
	c := client(cert)
	if code, _ := get(c, "https://"+addr+"/api/v1/state", ""); code != http.StatusUnauthorized {
		t.Errorf("no token over HTTPS: %d", code)
	}
	code, st := get(c, "https://"+addr+"/api/v1/state", testReadToken)
	if code != http.StatusOK || st == nil {
		t.Fatalf("read token over HTTPS: %d", code)
	}
	first := st.PeerCertificates[0].SerialNumber
	if r, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/api/v1/state"); err == nil {
		if r.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the HTTPS listener")
		}
		r.Body.Close()
	}
	// The certificate's name is an allowed host.
	_, port, _ := net.SplitHostPort(addr)
	req, _ := http.NewRequest("GET", "https://"+addr+"/api/v1/state", nil)
	req.Host = "admin.test:" + port
	req.Header.Set("Authorization", "Bearer "+testReadToken)
	if resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: c.Transport.(*http.Transport).TLSClientConfig.RootCAs, ServerName: "admin.test"}}}).Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("Host admin.test (the certificate's name): %d", resp.StatusCode)
		}
	}

	// Rotation: a new pair in place, served after ReloadToken.
	cert2, key2 := writeCert(t, t.TempDir(), "b", "admin.test", nil)
	writeFile(t, cert, readFile(t, cert2))
	writeFile(t, key, readFile(t, key2))
	if err := f.srv.ReloadToken(); err != nil {
		t.Fatal(err)
	}
	c2 := client(cert2)
	c2.Transport.(*http.Transport).DisableKeepAlives = true
	if code, st := get(c2, "https://"+addr+"/healthz", ""); code != http.StatusOK || st.PeerCertificates[0].SerialNumber.Cmp(first) == 0 {
		t.Errorf("after reload: %d, same certificate", code)
	}
	// A broken pair at reload keeps the one in force.
	writeFile(t, key, "not a key")
	if err := f.srv.ReloadToken(); err == nil {
		t.Error("reload of a bad key succeeded")
	}
	if code, _ := get(c2, "https://"+addr+"/healthz", ""); code != http.StatusOK {
		t.Errorf("after a failed reload: %d", code)
	}
}

// A key that does not match its certificate is refused at load, naming
// both files.
func TestTLSKeyMismatch(t *testing.T) {
	dir := t.TempDir()
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, key := writeCert(t, dir, "m", "admin.test", other)
	want := "server.http_tls_key " + key + " does not match the certificate in " + cert
	if _, err := Listen(Config{Addr: "127.0.0.1:0", TLSCert: cert, TLSKey: key}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Listen: %v", err)
	}
	if _, err := CheckAccess(Config{Addr: "127.0.0.1:0", TLSCert: cert, TLSKey: key}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("CheckAccess: %v", err)
	}
	if _, err := Listen(Config{Addr: "127.0.0.1:0", TLSCert: filepath.Join(dir, "missing.crt"), TLSKey: key}); err == nil || !strings.Contains(err.Error(), "server.http_tls_cert") {
		t.Errorf("missing certificate: %v", err)
	}
}

// Every change records the name of the token it came with: in the API's
// answer, the decision log and the lists.
func TestWhoIsRecorded(t *testing.T) {
	f := newFixture(t)
	r := f.write("POST", "/api/v1/overrides", `{"action": "drain", "cdn": "akamai", "region": "kr", "ttl": "10m", "reason": "PoP issue"}`)
	if r.code != http.StatusCreated || r.json(t)["by"] != testWriter {
		t.Fatalf("override: %d %s", r.code, r.body)
	}
	id := r.json(t)["id"].(string)
	if ds := f.journal.kind(health.DecisionOverride); len(ds) != 1 || ds[0].Override.By != testWriter {
		t.Errorf("decision log override: %+v", ds)
	}
	if !strings.Contains(string(f.get("/api/v1/overrides").body), `"by":"`+testWriter+`"`) {
		t.Errorf("override list: %s", f.get("/api/v1/overrides").body)
	}
	if r := f.write("DELETE", "/api/v1/overrides/"+id+"?reason=fixed", ""); r.code != http.StatusNoContent {
		t.Fatalf("delete: %d", r.code)
	}
	if ds := f.journal.kind(health.DecisionOverrideEnd); len(ds) != 1 || !strings.HasSuffix(ds[0].Reason, ": fixed (by "+testWriter+")") {
		t.Errorf("decision log override_end: %+v", ds)
	}
	r = f.write("POST", "/api/v1/annotations", `{"text": "kick-off"}`)
	if r.code != http.StatusCreated || r.json(t)["by"] != testWriter {
		t.Fatalf("note: %d %s", r.code, r.body)
	}
	if ds := f.journal.kind(health.DecisionAnnotation); len(ds) != 1 || ds[0].Annotation.By != testWriter {
		t.Errorf("decision log annotation: %+v", ds)
	}
	var who map[string]any
	f.getJSON("/api/v1/whoami", testToken, &who)
	if who["name"] != testWriter || who["role"] != "write" {
		t.Errorf("whoami: %v", who)
	}
}

func (f *fixture) getJSON(path, token string, into any) {
	f.t.Helper()
	r := f.do("GET", path, "", token)
	if r.code != http.StatusOK {
		f.t.Fatalf("GET %s: %d %s", path, r.code, r.body)
	}
	m := r.json(f.t)
	if p, ok := into.(*map[string]any); ok {
		*p = m
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
