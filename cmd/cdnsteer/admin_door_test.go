package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
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

// doorPolicy is restartPolicy's servers with the admin door's keys added
// (the decision log, token file and extra [server] lines filled in).
func doorPolicy(logPath, tokenPath, server string) string {
	p := fmt.Sprintf(restartPolicy, logPath, tokenPath)
	return strings.Replace(p, "admin_token_file = ", server+"admin_token_file = ", 1)
}

// selfSigned writes a certificate for 127.0.0.1 and localhost, and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	os.WriteFile(certFile, certPEM, 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, pool
}

// `cdnsteer check` reads the token file and the certificate as a start
// would: their problems fail it, FILE:LINE where there is a line.
func TestCheckAdminDoor(t *testing.T) {
	dir := t.TempDir()
	tokens, policy := filepath.Join(dir, "admin.token"), filepath.Join(dir, "policy.toml")
	logPath := filepath.Join(dir, "decisions.jsonl")
	cert, key, _ := selfSigned(t, dir)
	check := func(server, tokenFile string, mode os.FileMode) (int, string, string) {
		t.Helper()
		os.WriteFile(tokens, []byte(tokenFile), 0o600)
		if err := os.Chmod(tokens, mode); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(policy, []byte(doorPolicy(logPath, tokens, server)), 0o644)
		var out, errOut bytes.Buffer
		code := run([]string{"check", "-config", policy}, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	good := "# who\nops aaaaaaaaaaaaaaaa1 write\ngrafana bbbbbbbbbbbbbbbb2 read\n"
	code, out, errOut := check("", good, 0o600)
	if code != 0 || !strings.Contains(out, "http 127.0.0.1:0: http, 1 write and 1 read tokens, reads need a token, /metrics open, hosts localhost 127.0.0.1 ::1") {
		t.Errorf("good: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = check(fmt.Sprintf("http_tls_cert = %q\nhttp_tls_key = %q\n", cert, key), good, 0o600)
	if code != 0 || !strings.Contains(out, ": https, 1 write and 1 read tokens") {
		t.Errorf("TLS: %d\n%s%s", code, out, errOut)
	}
	for _, tc := range []struct {
		name, server, tokens string
		mode                 os.FileMode
		want                 string
	}{
		{"bad line", "", good + "ci short\n", 0o600, tokens + `:4: token "ci": 5 characters, want at least 16`},
		{"unknown role", "", good + "ci cccccccccccccccc3 admin\n", 0o600, tokens + `:4: token "ci": unknown role "admin"`},
		{"duplicate name", "", good + "ops cccccccccccccccc3\n", 0o600, tokens + `:4: token name "ops" is line 2's too`},
		{"group-readable", "", good, 0o640, "has mode 0640: group or others may read it; make it the service user's alone: chmod 600 " + tokens},
		{"key mismatch", fmt.Sprintf("http_tls_cert = %q\nhttp_tls_key = %q\n", cert, filepath.Join(dir, "other.key")), good, 0o600, "server.http_tls_key"},
		{"public bind", "http = \"192.0.2.1:8053\"\n", good, 0o600, "policy.toml:4: server.http: 192.0.2.1:8053 is not a loopback address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "key mismatch" {
				_, other, _ := selfSigned(t, t.TempDir())
				b, _ := os.ReadFile(other)
				os.WriteFile(filepath.Join(dir, "other.key"), b, 0o600)
				tc.want = "server.http_tls_key " + filepath.Join(dir, "other.key") + " does not match the certificate in " + cert
			}
			server := tc.server
			if tc.name == "public bind" {
				// Replace the listener rather than add one.
				os.WriteFile(tokens, []byte(tc.tokens), 0o600)
				p := strings.Replace(doorPolicy(logPath, tokens, ""), `http = "127.0.0.1:0"`, `http = "192.0.2.1:8053"`, 1)
				os.WriteFile(policy, []byte(p), 0o644)
				var o, e bytes.Buffer
				if code := run([]string{"check", "-config", policy}, &o, &e); code != 1 || !strings.Contains(e.String(), tc.want) {
					t.Errorf("check = %d: %s", code, e.String())
				}
				return
			}
			code, _, errOut := check(server, tc.tokens, tc.mode)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("check = %d, stderr:\n%s\nwant %q", code, errOut, tc.want)
			}
		})
	}
}

// The whole server over HTTPS with named tokens: reads need a token, a
// read token cannot write, the Host is checked, and a drain is recorded
// with its token's name in the API and the decision log.
func TestServeAdminOverTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir)
	tokens, logPath := filepath.Join(dir, "admin.token"), filepath.Join(dir, "decisions.jsonl")
	const writeTok, readTok = "ops-token-0123456789", "grafana-token-0123456"
	os.WriteFile(tokens, []byte("ops "+writeTok+" write\ngrafana "+readTok+" read\n"), 0o600)
	s := startServe(t, doorPolicy(logPath, tokens, fmt.Sprintf("http_tls_cert = %q\nhttp_tls_key = %q\n", cert, key)))
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	call := func(method, path, token, host, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, "https://"+s.HTTP+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, _ := call("GET", "/api/v1/state", "", "", ""); code != http.StatusUnauthorized {
		t.Errorf("state without a token: %d", code)
	}
	if code, _ := call("GET", "/api/v1/state", readTok, "", ""); code != http.StatusOK {
		t.Errorf("state with the read token: %d", code)
	}
	if code, _ := call("GET", "/api/v1/state", readTok, "attacker.example:443", ""); code != http.StatusMisdirectedRequest {
		t.Errorf("state with a foreign Host: %d", code)
	}
	if code, _ := call("GET", "/metrics", "", "", ""); code != http.StatusOK {
		t.Errorf("/metrics on loopback: %d", code)
	}
	drain := `{"action":"drain","cdn":"akamai","ttl":"10m","reason":"PoP issue"}`
	if code, _ := call("POST", "/api/v1/overrides", readTok, "", drain); code != http.StatusForbidden {
		t.Errorf("drain with the read token: %d", code)
	}
	code, body := call("POST", "/api/v1/overrides", writeTok, "", drain)
	var o health.Override
	if code != http.StatusCreated || json.Unmarshal(body, &o) != nil || o.By != "ops" {
		t.Fatalf("drain with the write token: %d %s", code, body)
	}
	await(t, "the drain in the decision log with who", 10*time.Second, func() bool {
		ds, _, _ := health.ReadJournal(logPath)
		for _, d := range ds {
			if d.Kind == health.DecisionOverride && d.Override != nil && d.Override.ID == o.ID && d.Override.By == "ops" {
				return true
			}
		}
		return false
	})
	// Plain HTTP on the HTTPS port gets no API.
	if r, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + s.HTTP + "/api/v1/state"); err == nil {
		r.Body.Close()
		if r.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered")
		}
	}
}
