// Package probe measures CDNs with active HTTP probes: each configured CDN
// is fetched on its own schedule, every phase is timed, and each result
// becomes a health.Signal for the steering engine.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// ErrTimeout is wrapped by Result.Err when a probe ran out of its timeout.
var ErrTimeout = errors.New("timed out")

// defaultClient serves callers of Do that pass no client.
var defaultClient = NewClient(nil)

// Result is one probe, as plain data: metrics and logs are the Runner's
// business, so Do stays easy to test and to call from elsewhere.
type Result struct {
	// CDN is the probed CDN's name.
	CDN string
	// Start is when the probe began, and the time of its Signal.
	Start time.Time

	// Phases, zero when they did not happen (no DNS with a fixed address
	// or an IP URL, no TLS over http). TTFB runs from the connection being
	// ready to the first response byte, like blackbox_exporter's
	// "processing", so it is the CDN's think time without the connect
	// cost. Transfer runs from the first byte to the end of the body read.
	DNS, Connect, TLS, TTFB, Transfer, Total time.Duration

	// Timeout is the probe's effective timeout, which a failed probe
	// reports as its TTFB.
	Timeout time.Duration

	// Status is the HTTP status, 0 without a response.
	Status int
	// Bytes is how much of the body was read, at most Config.MaxBytes.
	Bytes int64
	// Cache is what the response's cache headers say.
	Cache CacheStatus

	// Err is a transport error, a timeout (wrapping ErrTimeout) or a
	// status >= 400 ("status 503"). Redirects are successes.
	Err error
}

// TimedOut reports whether the probe failed by running out of time.
func (r Result) TimedOut() bool { return errors.Is(r.Err, ErrTimeout) }

// Do runs one probe of cfg under a deadline of cfg.Timeout. client nil
// means a shared NewClient(nil); a client not made by NewClient cannot
// honour cfg.Address, and such a probe fails rather than reach the wrong
// host.
func Do(ctx context.Context, client *http.Client, cfg Config) Result {
	cfg = cfg.WithDefaults()
	res := Result{CDN: cfg.CDN, Start: time.Now(), Timeout: cfg.Timeout}
	if client == nil {
		client = defaultClient
	}
	if _, ok := client.Transport.(*transport); cfg.Address != "" && !ok {
		res.Err = fmt.Errorf("probe %s: address %s needs a client from NewClient", cfg.CDN, cfg.Address)
		return res
	}

	tctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	deadline, _ := tctx.Deadline()
	var tm timings
	rctx := httptrace.WithClientTrace(tctx, tm.trace())
	rctx = context.WithValue(rctx, dialKey{}, dialTarget{address: cfg.Address, deadline: deadline})

	var readEnd time.Time
	err := func() error {
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, cfg.URL, nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", UserAgent)
		if cfg.Host != "" {
			req.Host = cfg.Host
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		res.Status = resp.StatusCode
		res.Cache = cacheStatus(resp.Header)
		res.Bytes, err = io.Copy(io.Discard, io.LimitReader(resp.Body, cfg.MaxBytes))
		readEnd = time.Now()
		if err != nil {
			return fmt.Errorf("read body after %d bytes: %w", res.Bytes, err)
		}
		return nil
	}()
	res.Total = time.Since(res.Start)

	m := tm.snapshot()
	res.DNS = span(m.dnsStart, m.dnsDone)
	res.Connect = span(m.connStart, m.connDone)
	res.TLS = span(m.tlsStart, m.tlsDone)
	res.TTFB = span(m.gotConn, m.firstByte)
	res.Transfer = span(m.firstByte, readEnd)

	// Only our own deadline is a timeout; the caller cancelling (a Runner
	// stopping) is not the CDN's fault. The clock decides rather than
	// tctx.Err(): the connection's deadline (see dial) is the same instant
	// and may fire before the context's timer does.
	timedOut := err != nil && ctx.Err() == nil && !time.Now().Before(deadline)
	switch {
	case timedOut:
		res.Err = fmt.Errorf("probe %s: %w after %s: %w", cfg.CDN, ErrTimeout, cfg.Timeout, err)
	case err != nil:
		res.Err = fmt.Errorf("probe %s: %w", cfg.CDN, err)
	case res.Status >= 400:
		res.Err = fmt.Errorf("probe %s: status %d", cfg.CDN, res.Status)
	}
	return res
}

// Signal turns the result into what the engine consumes. A failed probe
// reports its timeout as TTFB, so that a dead CDN looks slow as well as
// failing to anything that weighs latency. The download rate is left out
// on failure: an error page's rate says nothing about the test object.
func (r Result) Signal() health.Signal {
	s := health.Signal{CDN: r.CDN, Time: r.Start, Samples: 1, Source: health.SourceProbe}
	s.Values[health.TTFB] = health.F(ms(r.reportedTTFB()))
	if r.Err != nil {
		s.Values[health.ErrorRate] = health.F(1)
	} else {
		s.Values[health.ErrorRate] = health.F(0)
		if r.Bytes > 0 && r.Transfer > 0 {
			s.Values[health.Download] = health.F(float64(r.Bytes) * 8 / r.Transfer.Seconds() / 1e6)
		}
	}
	switch r.Cache {
	case CacheHit:
		s.Values[health.CacheHit] = health.F(1)
	case CacheMiss:
		s.Values[health.CacheHit] = health.F(0)
	}
	return s
}

// reportedTTFB is the measured TTFB, or the timeout when the probe failed.
func (r Result) reportedTTFB() time.Duration {
	switch {
	case r.Err == nil:
		return r.TTFB
	case r.Timeout > 0:
		return r.Timeout
	default:
		return DefaultTimeout
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
