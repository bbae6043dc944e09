package probe

import (
	"crypto/tls"
	"net/http/httptrace"
	"sync"
	"time"
)

// moments are when each phase of one probe started and ended; a zero time
// did not happen.
type moments struct {
	dnsStart, dnsDone   time.Time
	connStart, connDone time.Time
	tlsStart, tlsDone   time.Time
	gotConn, firstByte  time.Time
}

// timings records moments from httptrace hooks. The hooks run on the
// transport's dial goroutine too, which can outlive the probe after a
// timeout, hence the lock.
type timings struct {
	mu sync.Mutex
	m  moments
}

// mark keeps the first time only: with several addresses the dialer may
// start more than one connection, and the first attempt is when the viewer
// would have started waiting.
func (t *timings) mark(at *time.Time) {
	now := time.Now()
	t.mu.Lock()
	if at.IsZero() {
		*at = now
	}
	t.mu.Unlock()
}

func (t *timings) snapshot() moments {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m
}

func (t *timings) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:     func(httptrace.DNSStartInfo) { t.mark(&t.m.dnsStart) },
		DNSDone:      func(httptrace.DNSDoneInfo) { t.mark(&t.m.dnsDone) },
		ConnectStart: func(string, string) { t.mark(&t.m.connStart) },
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				t.mark(&t.m.connDone)
			}
		},
		TLSHandshakeStart: func() { t.mark(&t.m.tlsStart) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err == nil {
				t.mark(&t.m.tlsDone)
			}
		},
		GotConn:              func(httptrace.GotConnInfo) { t.mark(&t.m.gotConn) },
		GotFirstResponseByte: func() { t.mark(&t.m.firstByte) },
	}
}

// span is the time from a to b, or 0 when either did not happen.
func span(a, b time.Time) time.Duration {
	if a.IsZero() || b.IsZero() || b.Before(a) {
		return 0
	}
	return b.Sub(a)
}
