package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cdnsteer/cdnsteer/dnsserver"
)

// upgradeTimeout bounds how long the running process waits for the new
// one to serve DNS (it loads the policy, GeoIP and the decision log
// first); past it the new process is killed and the old serves on.
const upgradeTimeout = 60 * time.Second

// upgrade hands the DNS sockets to a new process running the binary now
// at this one's path (the upgraded one) with the same arguments, and
// waits until it serves DNS on them. Both read the same sockets
// meanwhile; a query is answered by whichever reads it. On success the
// caller stops reading and shuts down: what is queued is the new
// process's. On failure the new process is gone and this one serves on.
func upgrade(dns *dnsserver.Server, log *slog.Logger) (int, error) {
	exe, err := os.Executable() // the path, even with the file replaced
	if err != nil {
		return 0, err
	}
	files, err := dns.Files()
	if err != nil {
		return 0, fmt.Errorf("duplicating the sockets: %w", err)
	}
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		closeAll()
		dns.HandOffCancelled()
		return 0, err
	}
	defer r.Close()
	names := make([]string, len(files))
	for i := range names {
		names[i] = dnsSocketName
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = append(files, w)
	cmd.Env = append(cleanEnv(os.Environ()),
		"LISTEN_FDS="+strconv.Itoa(len(files)),
		"LISTEN_FDNAMES="+strings.Join(names, ":"),
		upgradeParentEnv+"="+strconv.Itoa(os.Getpid()),
		upgradeReadyEnv+"="+strconv.Itoa(firstListenFD+len(files)),
	)
	err = cmd.Start()
	closeAll()
	w.Close()
	if err != nil {
		dns.HandOffCancelled()
		return 0, fmt.Errorf("starting %s: %w", exe, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	log.Info("upgrade: new process started, waiting for it to serve DNS", "pid", cmd.Process.Pid, "binary", exe)

	r.SetReadDeadline(time.Now().Add(upgradeTimeout))
	var b [1]byte
	if _, err := r.Read(b[:]); err != nil {
		dns.HandOffCancelled()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			cmd.Process.Kill()
			return 0, fmt.Errorf("process %d not serving after %v: killed", cmd.Process.Pid, upgradeTimeout)
		}
		// It closed the pipe without a word: it exited (its log says why).
		select {
		case werr := <-exited:
			return 0, fmt.Errorf("process %d exited before serving DNS: %v", cmd.Process.Pid, werr)
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			return 0, fmt.Errorf("process %d closed its ready pipe without serving DNS: killed", cmd.Process.Pid)
		}
	}
	return cmd.Process.Pid, nil
}

// cleanEnv drops the variables of a previous hand-over.
func cleanEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", upgradeParentEnv, upgradeReadyEnv:
			continue
		}
		out = append(out, kv)
	}
	return out
}

// upgradeOnSignal upgrades on each SIGUSR2 until ctx ends: when the new
// process serves DNS, this one tells systemd that it is the service's
// main process now and shuts down (cancel). It returns what hands the
// signal back.
func upgradeOnSignal(ctx context.Context, cancel context.CancelFunc, dns *dnsserver.Server, log *slog.Logger) func() {
	usr2 := make(chan os.Signal, 1)
	signal.Notify(usr2, syscall.SIGUSR2)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-usr2:
			}
			pid, err := upgrade(dns, log)
			if err != nil {
				log.Error("upgrade failed: this process serves on", "err", err)
				continue
			}
			log.Info("upgrade: the new process serves DNS; this one stops", "pid", pid)
			if err := notify("MAINPID=" + strconv.Itoa(pid)); err != nil {
				log.Warn("systemd notification", "err", err)
			}
			cancel()
			return
		}
	}()
	return func() { signal.Stop(usr2) }
}

// retryBind runs start until it no longer fails because its address is
// in use (by the process being replaced, until it has stopped), for at
// most upgradeTimeout.
func retryBind[T any](ctx context.Context, start func() (T, error)) (T, error) {
	deadline := time.Now().Add(upgradeTimeout)
	for {
		v, err := start()
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(10 * time.Millisecond):
		}
	}
}
