package probe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// wait bounds every await in these tests; conditions are met in
// milliseconds, so hitting it means a bug, not a slow machine.
const wait = 5 * time.Second

// server starts an httptest server on 127.0.0.1, closed with the test.
func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// collector is a Runner sink that tests can await.
type collector struct {
	mu   sync.Mutex
	sigs []health.Signal
	// more holds a token after any new signal; one is enough because
	// waiters re-check everything on each wake.
	more chan struct{}
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1)} }

func (c *collector) sink(s health.Signal) {
	c.mu.Lock()
	c.sigs = append(c.sigs, s)
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
}

func (c *collector) snapshot() []health.Signal {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sigs)
}

// await returns the signals so far once cond holds for them.
func (c *collector) await(t *testing.T, what string, cond func([]health.Signal) bool) []health.Signal {
	t.Helper()
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	for {
		if s := c.snapshot(); cond(s) {
			return s
		}
		select {
		case <-c.more:
		case <-timeout.C:
			t.Fatalf("no %s within %s", what, wait)
		}
	}
}

// of returns the signals of one CDN, in order.
func of(sigs []health.Signal, cdn string) []health.Signal {
	var out []health.Signal
	for _, s := range sigs {
		if s.CDN == cdn {
			out = append(out, s)
		}
	}
	return out
}

// receive waits for a value on ch, failing the test after the bound.
func receive[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("no %s within %s", what, wait)
		panic("unreachable")
	}
}

// selfSigned returns a certificate for names and a pool that trusts it,
// for TLS tests on names that do not resolve.
func selfSigned(t *testing.T, names ...string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
