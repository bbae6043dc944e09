package prom

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pki is a test CA with a server certificate for 127.0.0.1 and a client
// certificate, all as PEM files in dir.
type pki struct {
	dir                             string
	caFile, serverCert, serverKey   string
	clientCert, clientKey, otherKey string
	caPool                          *x509.CertPool
	serverPair                      tls.Certificate
	caCert                          *x509.Certificate
	caKey                           *ecdsa.PrivateKey
	serial                          int64
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	p.caKey = newKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.caKey.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.caCert, _ = x509.ParseCertificate(der)
	p.caFile = p.write(t, "ca.crt", pemOf("CERTIFICATE", der))
	p.caPool = x509.NewCertPool()
	p.caPool.AddCert(p.caCert)
	p.serverCert, p.serverKey = p.issue(t, "server", x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = p.issue(t, "client", x509.ExtKeyUsageClientAuth)
	_, p.otherKey = p.issue(t, "other", x509.ExtKeyUsageClientAuth)
	if p.serverPair, err = tls.LoadX509KeyPair(p.serverCert, p.serverKey); err != nil {
		t.Fatal(err)
	}
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func (p *pki) write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue signs a certificate for name (and 127.0.0.1) with the CA.
func (p *pki) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	t.Helper()
	key := newKey(t)
	p.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(100 + p.serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return p.write(t, name+".crt", pemOf("CERTIFICATE", der)), p.write(t, name+".key", pemOf("PRIVATE KEY", kder))
}

// authProm is the fake Prometheus over HTTPS that wants a client
// certificate from the CA and the credentials check accepts.
func authProm(t *testing.T, p *pki, check func(*http.Request) bool) *fakeProm {
	t.Helper()
	f := &fakeProm{answers: map[string]answer{}}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !check(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="prometheus"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		f.serve(w, r)
	}))
	f.TLS = &tls.Config{Certificates: []tls.Certificate{p.serverPair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.caPool}
	f.StartTLS()
	t.Cleanup(f.Close)
	f.set("q", answer{series: []map[string]string{series("120", "cdn", "akamai", "region", "kr")}})
	return f
}

// The source over HTTPS with the CA, a client certificate and a bearer
// token read from its file at each round: rotated without a reload.
func TestBearerAndMutualTLS(t *testing.T) {
	p := newPKI(t)
	token := p.write(t, "token", "first-token\n")
	want := "Bearer first-token"
	f := authProm(t, p, func(r *http.Request) bool { return r.Header.Get("Authorization") == want })
	cfg := Config{URL: f.URL, Queries: map[string]string{"ttfb_ms": "q"},
		Auth: Auth{BearerTokenFile: token, CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey}}
	ts := newTestSource(t, cfg)
	if err := ts.Poll(t.Context()); err != nil {
		t.Fatalf("poll: %v", err)
	}
	if sigs := ts.got.take(); len(sigs) != 1 || sigs[0].CDN != "akamai" {
		t.Fatalf("signals %+v", sigs)
	}
	// Rotation: the server wants the new token, the file has it.
	want = "Bearer second-token"
	if err := ts.Poll(t.Context()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("old token against the new: %v", err)
	}
	p.write(t, "token", "second-token")
	if err := ts.Poll(t.Context()); err != nil {
		t.Errorf("after rotation: %v", err)
	}

	// Without the client certificate the handshake fails; without the
	// CA the server's certificate is not trusted.
	for name, a := range map[string]Auth{
		"no client certificate": {BearerTokenFile: token, CAFile: p.caFile},
		"no CA":                 {BearerTokenFile: token, CertFile: p.clientCert, KeyFile: p.clientKey},
	} {
		c := cfg
		c.Auth = a
		if err := newTestSource(t, c).Poll(t.Context()); err == nil {
			t.Errorf("%s: poll succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestBasicAuth(t *testing.T) {
	p := newPKI(t)
	pw := p.write(t, "password", "s3cret pass\n")
	f := authProm(t, p, func(r *http.Request) bool {
		u, pass, ok := r.BasicAuth()
		return ok && u == "cdnsteer" && pass == "s3cret pass"
	})
	cfg := Config{URL: f.URL, Queries: map[string]string{"ttfb_ms": "q"},
		Auth: Auth{BasicAuthUser: "cdnsteer", BasicAuthPasswordFile: pw, CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey}}
	ts := newTestSource(t, cfg)
	if err := ts.Poll(t.Context()); err != nil || ts.got.count() != 1 {
		t.Fatalf("poll: %v, %d signals", err, ts.got.count())
	}
	p.write(t, "password", "wrong")
	if err := ts.Poll(t.Context()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong password: %v", err)
	}
	// A password file gone between rounds fails the round, naming it.
	os.Remove(pw)
	if err := ts.Poll(t.Context()); err == nil || !strings.Contains(err.Error(), "basic_auth_password_file") {
		t.Errorf("password file gone: %v", err)
	}
}

// The auth keys' problems are errors at load, each naming its key.
func TestAuthValidate(t *testing.T) {
	p := newPKI(t)
	token := p.write(t, "token", "tok")
	empty := p.write(t, "empty", " \n")
	notPEM := p.write(t, "ca.txt", "not a certificate")
	missing := filepath.Join(p.dir, "missing")
	const https = "https://127.0.0.1:9090"
	for _, tc := range []struct {
		name, url string
		auth      Auth
		want      string
	}{
		{"unreadable token", https, Auth{BearerTokenFile: missing}, "bearer_token_file: open " + missing + ": no such file or directory"},
		{"empty token", https, Auth{BearerTokenFile: empty}, "bearer_token_file: " + empty + " is empty"},
		{"both", https, Auth{BearerTokenFile: token, BasicAuthUser: "u", BasicAuthPasswordFile: token}, "bearer_token_file: give a bearer token or basic auth, not both"},
		{"user alone", https, Auth{BasicAuthUser: "u"}, "basic_auth_user: basic_auth_user and basic_auth_password_file go together"},
		{"unreadable password", https, Auth{BasicAuthUser: "u", BasicAuthPasswordFile: missing}, "basic_auth_password_file: open " + missing},
		{"ca over http", "http://127.0.0.1:9090", Auth{CAFile: p.caFile}, "ca_file: needs an https url"},
		{"ca not pem", https, Auth{CAFile: notPEM}, "ca_file: " + notPEM + " holds no PEM certificate"},
		{"ca unreadable", https, Auth{CAFile: missing}, "ca_file: open " + missing},
		{"cert alone", https, Auth{CertFile: p.clientCert}, "cert_file: cert_file and key_file go together"},
		{"key mismatch", https, Auth{CertFile: p.clientCert, KeyFile: p.otherKey}, "key_file: " + p.otherKey + " does not match the certificate in " + p.clientCert},
		{"cert unreadable", https, Auth{CertFile: missing, KeyFile: p.clientKey}, "cert_file: open " + missing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Config{URL: tc.url, Queries: map[string]string{"ttfb_ms": "q"}, Stamp: StampQuery, Auth: tc.auth}.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate: %v\nwant %q", err, tc.want)
			}
		})
	}
	good := Config{URL: https, Queries: map[string]string{"ttfb_ms": "q"}, Stamp: StampQuery,
		Auth: Auth{BearerTokenFile: token, CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey}}
	if err := good.Validate(); err != nil {
		t.Errorf("good: %v", err)
	}
}
