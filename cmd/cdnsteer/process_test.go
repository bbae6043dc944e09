//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Tests of the server as an operator runs it: the real binary in its own
// process, which the test can pin to a CPU, measure and signal.

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// cdnsteerBinary builds the command once per test run, without the race
// detector even under -race: the CPU it spends is what the tests measure.
func cdnsteerBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cdnsteer-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "cdnsteer")
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out, err := exec.Command(goTool, "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// serverProc is a running `cdnsteer serve`.
type serverProc struct {
	cmd  *exec.Cmd
	pid  int
	dns  []string
	http string
	log  *lockedBuffer
	done chan struct{} // closed when the process has exited
}

var listenLine = regexp.MustCompile(`msg="(http endpoint up|dns listening)" addr=(\S+)`)

// startServerProc runs `cdnsteer serve -config policy` with the number of
// DNS addresses given in ndns, and waits until it listens on all of them.
// With cpu ≥ 0 the process may run on that CPU only from its first
// instruction, as under `taskset -c cpu`, so that the runtime sizes
// itself for one CPU. The process is killed, if still running, when the
// test ends.
func startServerProc(t *testing.T, policy string, ndns, cpu int) *serverProc {
	t.Helper()
	bin := cdnsteerBinary(t)
	cmd := exec.Command(bin, "serve", "-config", policy)
	cmd.Dir = filepath.Dir(policy)
	// The runtime must pick its own GOMAXPROCS, as in production.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOMAXPROCS=") })
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := startOnCPU(cmd, cpu); err != nil {
		t.Fatal(err)
	}
	p := &serverProc{cmd: cmd, pid: cmd.Process.Pid, log: &lockedBuffer{}, done: make(chan struct{})}
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", p.log.String())
		}
	})
	addrs := make(chan [2]string, ndns+1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.log.Write([]byte(line + "\n"))
			if m := listenLine.FindStringSubmatch(line); m != nil {
				addrs <- [2]string{m[1], m[2]}
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
		close(p.done)
	}()
	timeout := time.After(20 * time.Second)
	for len(p.dns) < ndns || p.http == "" {
		select {
		case a := <-addrs:
			if a[0] == "dns listening" {
				p.dns = append(p.dns, a[1])
			} else {
				p.http = a[1]
			}
		case <-p.done:
			t.Fatalf("server exited at start-up:\n%s", p.log.String())
		case <-timeout:
			t.Fatalf("server not listening after 20 s:\n%s", p.log.String())
		}
	}
	if cpu >= 0 {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("Cpus_allowed_list:\t%d\n", cpu); !strings.Contains(string(status), want) {
			t.Fatalf("server not pinned: want %q in\n%s", want, status)
		}
	}
	return p
}

// startOnCPU starts cmd on the given CPU only (any CPU when cpu < 0). A
// child inherits the affinity of the thread that forks it, so that thread
// is pinned for the moment of the fork.
func startOnCPU(cmd *exec.Cmd, cpu int) error {
	if cpu < 0 {
		return cmd.Start()
	}
	runtime.LockOSThread()
	var was, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	err := cmd.Start()
	if unix.SchedSetaffinity(0, &was) == nil {
		// Otherwise the thread stays locked, and exits with this
		// goroutine rather than serve others pinned.
		runtime.UnlockOSThread()
	}
	return err
}

// firstCPU is the lowest CPU this process may run on.
func firstCPU(t *testing.T) int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	for cpu := 0; cpu < len(set)*64; cpu++ {
		if set.IsSet(cpu) {
			return cpu
		}
	}
	t.Fatal("no CPU in this process's affinity mask")
	return -1
}

// cpuTime is the CPU time the process has used so far: the sum over its
// threads of the scheduler's run time, in nanoseconds, rather than
// utime+stime, whose 10 ms ticks are too coarse for an idle second. It
// does not depend on what else the machine runs.
func (p *serverProc) cpuTime(t *testing.T) time.Duration {
	t.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", p.pid))
	if err != nil {
		t.Fatal(err)
	}
	var sum time.Duration
	for _, task := range tasks {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", p.pid, task.Name()))
		if err != nil {
			continue // the thread has just exited
		}
		f := strings.Fields(string(raw))
		if len(f) == 0 {
			t.Fatalf("schedstat of task %s: %q", task.Name(), raw)
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			t.Fatalf("schedstat of task %s: %q", task.Name(), raw)
		}
		sum += time.Duration(ns)
	}
	return sum
}

// cpuShare measures the fraction of one CPU the process uses over d.
func (p *serverProc) cpuShare(t *testing.T, d time.Duration) float64 {
	t.Helper()
	before, start := p.cpuTime(t), time.Now()
	time.Sleep(d)
	used, elapsed := p.cpuTime(t)-before, time.Since(start)
	return max(float64(used), 0) / float64(elapsed)
}

// stop sends SIGTERM and returns how long the process took to exit.
func (p *serverProc) stop(t *testing.T, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("still running %s after SIGTERM", limit)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d after SIGTERM", code)
	}
	return time.Since(start)
}

// scrape fetches /metrics on a new connection, as a Prometheus server
// that has just started would, and returns how long it took.
func scrape(t *testing.T, httpAddr string) time.Duration {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	resp, err := c.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return time.Since(start)
}

// quantile is the q-quantile of ds (nearest rank); it sorts ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	slices.Sort(ds)
	i := int(float64(len(ds))*q+0.999999) - 1
	return ds[max(0, min(i, len(ds)-1))]
}
