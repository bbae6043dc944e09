package admin

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// loopback tells whether addr (IP:port) binds loopback only: such a
// listener is reachable from this host alone.
func loopback(addr string) bool {
	ap, err := netip.ParseAddrPort(addr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// checkDoor refuses what would leave the API open to the network: a bind
// beyond loopback needs TLS and tokens and cannot open its reads.
func checkDoor(cfg Config) error {
	if loopback(cfg.Addr) {
		return nil
	}
	var missing []string
	if cfg.TLSCert == "" || cfg.TLSKey == "" {
		missing = append(missing, "TLS (http_tls_cert, http_tls_key)")
	}
	if cfg.TokenFile == "" {
		missing = append(missing, "tokens (admin_token_file)")
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("server.http %s is not a loopback address: the API, the live view and /metrics would be open to the network; bind 127.0.0.1, or set %s",
			cfg.Addr, strings.Join(missing, " and "))
	case cfg.OpenReads:
		return fmt.Errorf("server.http %s is not a loopback address: http_open_reads is allowed on loopback binds only", cfg.Addr)
	}
	return nil
}

// AllowedHosts is the Host header's allowed names when the policy lists
// none: the bind address, the loopback names for a loopback bind, and the
// names and addresses the certificate is for. A browser led to the
// listener by a name of an attacker's (DNS rebinding) sends that name,
// and is refused.
func defaultHosts(addr string, cert *x509.Certificate) []string {
	var out []string
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		a := ap.Addr().Unmap()
		if a.IsLoopback() || a.IsUnspecified() {
			out = append(out, "localhost", "127.0.0.1", "::1")
		}
		if !a.IsUnspecified() {
			out = append(out, a.String())
		}
	}
	if cert != nil {
		out = append(out, cert.DNSNames...)
		for _, ip := range cert.IPAddresses {
			out = append(out, ip.String())
		}
	}
	return normHosts(out)
}

// normHosts lower-cases names, drops a final dot and duplicates.
func normHosts(hs []string) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
		if h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// hostOf is the name of a Host header, without its port or brackets.
func hostOf(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// guardHost refuses, with 421 and a JSON error, a request whose Host is
// not allowed. Liveness and readiness answer whatever the name: they
// disclose nothing and load balancers probe by any name.
func guardHost(allowed []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && !slices.Contains(allowed, hostOf(r.Host)) {
			writeError(w, http.StatusMisdirectedRequest, fmt.Sprintf("host %q is not one this server answers for (server.http_allowed_hosts: %s)",
				r.Host, strings.Join(allowed, ", ")))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// keyPair is the admin listener's certificate, replaced on ReloadToken.
type keyPair struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadKeyPair reads a certificate and its key, saying which file is at
// fault: a key that does not match its certificate is refused.
func LoadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("server.http_tls_cert: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("server.http_tls_key: %w", err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		if strings.Contains(err.Error(), "does not match") {
			return nil, fmt.Errorf("server.http_tls_key %s does not match the certificate in %s (%v)", keyFile, certFile, err)
		}
		return nil, fmt.Errorf("server.http_tls_cert %s, http_tls_key %s: %w", certFile, keyFile, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("server.http_tls_cert %s: %w", certFile, err)
		}
	}
	return &c, nil
}

func newKeyPair(certFile, keyFile string) (*keyPair, error) {
	kp := &keyPair{certFile: certFile, keyFile: keyFile}
	return kp, kp.load()
}

// load reads the pair again; on error the one in force stays.
func (kp *keyPair) load() error {
	c, err := LoadKeyPair(kp.certFile, kp.keyFile)
	if err != nil {
		return err
	}
	kp.cur.Store(c)
	return nil
}

func (kp *keyPair) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return kp.cur.Load(), nil
		},
	}
}

// expiryWarning says when the certificate is expired or close to it.
func expiryWarning(c *x509.Certificate, now time.Time) string {
	switch left := c.NotAfter.Sub(now); {
	case left <= 0:
		return "the admin TLS certificate expired on " + c.NotAfter.Format(time.RFC3339)
	case left < 14*24*time.Hour:
		return "the admin TLS certificate expires on " + c.NotAfter.Format(time.RFC3339)
	}
	return ""
}

// Access is what CheckAccess found: the admin listener as it would run.
type Access struct {
	Loopback     bool
	TLS          bool
	Write, Read  int // tokens of each role (0, 0 without a token file)
	OpenReads    bool
	OpenMetrics  bool
	AllowedHosts []string
	Warnings     []string
}

// String is one line for `cdnsteer check`.
func (a Access) String() string {
	var b strings.Builder
	scheme := "http"
	if a.TLS {
		scheme = "https"
	}
	fmt.Fprintf(&b, "%s, ", scheme)
	if a.Write+a.Read == 0 {
		b.WriteString("no tokens (writes disabled)")
	} else {
		fmt.Fprintf(&b, "%d write and %d read tokens", a.Write, a.Read)
	}
	if a.OpenReads {
		b.WriteString(", reads open")
	} else {
		b.WriteString(", reads need a token")
	}
	if a.OpenMetrics {
		b.WriteString(", /metrics open")
	} else {
		b.WriteString(", /metrics needs a token")
	}
	fmt.Fprintf(&b, ", hosts %s", strings.Join(a.AllowedHosts, " "))
	return b.String()
}

// CheckAccess reads the token file and the certificate as Listen would,
// without binding: `cdnsteer check` reports their problems before a
// start does.
func CheckAccess(cfg Config) (Access, error) {
	var errs []error
	if err := checkDoor(cfg); err != nil {
		errs = append(errs, err)
	}
	acc := Access{Loopback: loopback(cfg.Addr), OpenReads: cfg.OpenReads || cfg.TokenFile == ""}
	acc.OpenMetrics = acc.Loopback || acc.OpenReads
	if cfg.TokenFile != "" {
		t, err := LoadTokens(cfg.TokenFile)
		if err != nil {
			errs = append(errs, err)
		} else {
			acc.Write, acc.Read = t.Counts()
		}
	}
	var leaf *x509.Certificate
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		acc.TLS = true
		c, err := LoadKeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			errs = append(errs, err)
		} else {
			leaf = c.Leaf
			if w := expiryWarning(leaf, time.Now()); w != "" {
				acc.Warnings = append(acc.Warnings, w)
			}
		}
	}
	acc.AllowedHosts = normHosts(cfg.AllowedHosts)
	if len(cfg.AllowedHosts) == 0 {
		acc.AllowedHosts = defaultHosts(cfg.Addr, leaf)
	}
	// A bind beyond loopback is warned about by the policy's check.
	return acc, errors.Join(errs...)
}
