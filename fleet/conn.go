package fleet

import (
	"context"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// connect dials NATS, retrying for as long as it takes, and hands the
// connection to run. It runs in a goroutine of its own: the first try
// waits on each server for up to opTimeout, which must hold up neither
// the instance's start nor its stop.
func (f *Fleet) connect(ctx context.Context, ready chan<- *nats.Conn) {
	nc, err := nats.Connect(strings.Join(f.cfg.NATS, ","), f.options()...)
	if err != nil {
		// With RetryOnFailedConnect only what no retry can mend ends
		// here (a URL or credentials file NATS cannot use).
		f.setConnErr(err)
		return
	}
	select {
	case ready <- nc:
	case <-ctx.Done():
		nc.Close()
	}
}

func (f *Fleet) options() []nats.Option {
	opts := []nats.Option{
		nats.Name("cdnsteer " + f.cfg.Instance),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		// A paused server keeps its sockets open: only missed pings tell.
		nats.PingInterval(time.Second),
		nats.MaxPingsOutstanding(3),
		nats.Timeout(opTimeout),
		// No buffering while reconnecting: a put then fails at once and
		// stays pending here, rather than wait for its timeout and be
		// sent again, late, by nats.go after the reconnection.
		nats.ReconnectBufSize(-1),
		nats.ConnectHandler(f.connected),
		nats.ReconnectHandler(f.connected),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if f.stopped.Load() {
				return
			}
			f.up.Store(false)
			f.m.connected.Set(0)
			if err != nil {
				f.setConnErr(err)
			}
			f.log.Warn("NATS disconnected: answering from local state, changes wait", "err", describeOrNil(err))
		}),
		nats.ReconnectErrHandler(func(nc *nats.Conn, err error) { f.setConnErr(err) }),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) { f.setConnErr(err) }),
		nats.ClosedHandler(func(*nats.Conn) {
			f.up.Store(false)
			f.m.connected.Set(0)
		}),
	}
	if f.cfg.Credentials != "" {
		opts = append(opts, nats.UserCredentials(f.cfg.Credentials))
	}
	if f.cfg.CA != "" {
		opts = append(opts, nats.RootCAs(f.cfg.CA))
	}
	return opts
}

// connected runs on nats.go's callback goroutine, where taking the
// connection's lock (for its URL) holds up nothing of ours.
func (f *Fleet) connected(nc *nats.Conn) {
	if f.stopped.Load() {
		return
	}
	url := nc.ConnectedUrlRedacted()
	f.server.Store(&url)
	f.up.Store(true)
	f.m.connected.Set(1)
	f.mu.Lock()
	f.connErr = ""
	f.mu.Unlock()
	f.log.Info("NATS connected", "server", url)
	select {
	case f.events <- struct{}{}:
	default:
	}
}

// setConnErr keeps the latest connection error for the status, logging
// it when it changes: a reconnect loop must not repeat it every 250 ms.
func (f *Fleet) setConnErr(err error) {
	if f.stopped.Load() {
		// A connection left closing on its own says nothing news.
		return
	}
	msg := describe(err)
	f.mu.Lock()
	changed := msg != f.connErr
	f.connErr = msg
	f.mu.Unlock()
	if changed {
		f.log.Error("NATS", "err", msg)
	}
}

func describeOrNil(err error) string {
	if err == nil {
		return ""
	}
	return describe(err)
}
