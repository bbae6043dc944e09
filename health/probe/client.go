package probe

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// UserAgent is sent with every probe, so that CDN and origin logs can tell
// probes from viewers.
const UserAgent = "cdnsteer-probe/1"

// transport marks clients made by NewClient: only their dialer knows how
// to honour Config.Address.
type transport struct{ *http.Transport }

// dialKey carries a probe's dial target through the request context; the
// transport keeps context values when it dials.
type dialKey struct{}

type dialTarget struct {
	address  string
	deadline time.Time
}

// NewClient returns the client probes are meant to use: keep-alives off so
// that every probe pays the real connect and TLS cost, as a new viewer
// does; no proxy, since a proxy would be measured instead of the CDN; no
// cookies; redirects returned, not followed; bodies not decompressed, so
// Result.Bytes is what crossed the wire. It speaks HTTP/1.1 only (a custom
// dialer turns HTTP/2 off), so each connection carries the one request
// whose phases it times. tlsConfig nil means the system roots.
func NewClient(tlsConfig *tls.Config) *http.Client {
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tlsConfig = tlsConfig.Clone()
	}
	d := &net.Dialer{KeepAlive: -1}
	return &http.Client{
		Transport: &transport{&http.Transport{
			Proxy:              nil,
			DialContext:        func(ctx context.Context, network, addr string) (net.Conn, error) { return dial(ctx, d, network, addr) },
			TLSClientConfig:    tlsConfig,
			DisableKeepAlives:  true,
			DisableCompression: true,
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// dial connects to the probe's fixed address, if it has one. The
// transport detaches dials (and the TLS handshake) from the request's
// cancellation, so a blackholed CDN would leave dials hanging long after
// each probe timed out; bounding the dial and the connection by the
// probe's deadline stops them piling up. The connection serves this one
// probe only (no keep-alives), so its deadline is the probe's.
func dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	t, _ := ctx.Value(dialKey{}).(dialTarget)
	if t.address != "" {
		addr = t.address
	}
	if !t.deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, t.deadline)
		defer cancel()
	}
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if !t.deadline.IsZero() {
		if err := conn.SetDeadline(t.deadline); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return conn, nil
}
