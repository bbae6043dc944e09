package prom

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// promProc is a Prometheus server the test started, and must end.
type promProc struct {
	bin, dir, addr string
	cmd            *exec.Cmd
	done           chan struct{} // closed once the process has been waited for
	// web is the --web.config.file (TLS, basic auth) when set; then
	// readiness is asked over https with client, which carries the
	// credentials it needs.
	web    string
	client *http.Client
}

// promConfig scrapes only the exporter, every second, so that a changed
// value shows in queries within a couple of seconds.
const promConfig = `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: cdn
    static_configs:
      - targets: ['%s']
`

// startPrometheus writes a config scraping target into a temp dir and
// starts bin on a free loopback port, retrying with another port if the
// one picked was taken in the meantime. It returns once /-/ready says so.
func startPrometheus(t *testing.T, bin, target string) *promProc {
	t.Helper()
	return startPrometheusWeb(t, bin, target, "", nil)
}

// startPrometheusWeb is startPrometheus with a --web.config.file (its
// content) and the client that passes its checks.
func startPrometheusWeb(t *testing.T, bin, target, web string, client *http.Client) *promProc {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("prometheus binary: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), fmt.Appendf(nil, promConfig, target), 0o644); err != nil {
		t.Fatal(err)
	}
	webFile := ""
	if web != "" {
		webFile = filepath.Join(dir, "web.yml")
		if err := os.WriteFile(webFile, []byte(web), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	for range 3 {
		p := &promProc{bin: bin, dir: dir, addr: freeLoopbackAddr(t), web: webFile, client: client}
		if err = p.start(t); err == nil {
			return p
		}
		t.Logf("prometheus on %s: %v; trying another port", p.addr, err)
	}
	t.Fatalf("prometheus did not start: %v", err)
	return nil
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs the server on p.addr and awaits its readiness; the process is
// killed at cleanup whatever happens, and its log shown if the test failed.
func (p *promProc) start(t *testing.T) error {
	logPath := filepath.Join(p.dir, fmt.Sprintf("prometheus-%d.log", time.Now().UnixNano()))
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	args := []string{"--config.file=" + filepath.Join(p.dir, "prometheus.yml"),
		"--storage.tsdb.path=" + filepath.Join(p.dir, "data"),
		"--web.listen-address=" + p.addr}
	if p.web != "" {
		args = append(args, "--web.config.file="+p.web)
	}
	p.cmd = exec.Command(p.bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	dieWithTest(p.cmd)
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", p.bin, err)
	}
	p.done = make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("prometheus log %s:\n%s", logPath, tail(b, 4000))
			}
		}
	})
	if err := p.awaitReady(30 * time.Second); err != nil {
		_ = p.cmd.Process.Kill()
		<-p.done
		b, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w; log:\n%s", err, tail(b, 2000))
	}
	return nil
}

// awaitReady polls /-/ready until it answers 200, the process exits, or
// the limit passes.
func (p *promProc) awaitReady(limit time.Duration) error {
	// No proxy: the request must go to loopback whatever the environment says.
	client, scheme := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: time.Second}, "http"
	if p.web != "" {
		client, scheme = p.client, "https"
	}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("exited before ready: %v", p.cmd.ProcessState)
		default:
		}
		resp, err := client.Get(scheme + "://" + p.addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v (last: %v)", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the server as an operator or systemd would, and waits for it.
func (p *promProc) stop(limit time.Duration) error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("sigterm prometheus: %w", err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(limit):
		return errors.New("prometheus still running after sigterm")
	}
}

// await calls try until it returns nil or the limit passes, and returns
// try's last error then.
func await(ctx context.Context, limit time.Duration, try func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := try()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %w", limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
