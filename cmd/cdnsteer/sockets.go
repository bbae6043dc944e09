package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/cdnsteer/cdnsteer/dnsserver"
)

// The process side of sockets that outlive it (sd_listen_fds(3) and
// sd_notify(3), written out: two environment variables and a datagram).
// systemd's cdnsteer.socket keeps the DNS sockets open across restarts;
// an upgrade (SIGUSR2, upgrade.go) hands them to the new process with the
// same variables, plus upgradeParentEnv to say who handed them.

const (
	// upgradeParentEnv is the PID of the process that handed its sockets
	// over; it stands for LISTEN_PID, which a parent cannot know before
	// the child exists.
	upgradeParentEnv = "CDNSTEER_UPGRADE_PARENT"
	// upgradeReadyEnv is the descriptor on which the new process says it
	// serves DNS (one byte; closing it without means it failed).
	upgradeReadyEnv = "CDNSTEER_UPGRADE_READY_FD"
	// dnsSocketName is the FileDescriptorName= of the DNS sockets.
	dnsSocketName = "dns"
	// firstListenFD is SD_LISTEN_FDS_START.
	firstListenFD = 3
)

// handedSockets are the listening sockets this process was started with.
type handedSockets struct {
	files []*os.File
	// parent is the PID of the process that handed them over on an
	// upgrade (0: systemd, or none). It holds the HTTP port until it
	// has stopped.
	parent int
	// ready, on an upgrade, tells the parent that DNS is served here.
	ready *os.File
}

// takeSockets reads the sockets passed by systemd (LISTEN_PID is this
// process) or by the process this one upgrades (upgradeParentEnv is the
// parent), and clears the variables so that nothing started later takes
// them for its own. Every socket must be named dnsSocketName, when names
// are given: a socket unit that passes something else is a mistake worth
// refusing to start on.
func takeSockets() (*handedSockets, error) {
	defer func() {
		for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", upgradeParentEnv, upgradeReadyEnv} {
			os.Unsetenv(v)
		}
	}()
	hs := &handedSockets{}
	pid := os.Getpid()
	switch {
	case os.Getenv("LISTEN_PID") != "":
		if p, err := strconv.Atoi(os.Getenv("LISTEN_PID")); err != nil || p != pid {
			return hs, nil // meant for another process
		}
	case os.Getenv(upgradeParentEnv) != "":
		p, err := strconv.Atoi(os.Getenv(upgradeParentEnv))
		if err != nil || p != os.Getppid() {
			return hs, nil
		}
		hs.parent = p
	default:
		return hs, nil
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("LISTEN_FDS=%q: not a count of sockets", os.Getenv("LISTEN_FDS"))
	}
	var names []string
	if v, ok := os.LookupEnv("LISTEN_FDNAMES"); ok {
		names = strings.Split(v, ":")
		if len(names) != n {
			return nil, fmt.Errorf("LISTEN_FDNAMES=%q names %d sockets, LISTEN_FDS=%d", v, len(names), n)
		}
	}
	for i := 0; i < n; i++ {
		fd := firstListenFD + i
		name := dnsSocketName
		if names != nil {
			name = names[i]
		}
		if name != dnsSocketName {
			return nil, fmt.Errorf("socket %d is named %q: cdnsteer takes only sockets named %q (FileDescriptorName=%s in the socket unit)", fd, name, dnsSocketName, dnsSocketName)
		}
		// Ours now: not to be inherited by anything this process runs.
		syscall.CloseOnExec(fd)
		hs.files = append(hs.files, os.NewFile(uintptr(fd), fmt.Sprintf("%s-socket-%d", name, fd)))
	}
	if hs.parent != 0 {
		fd, err := strconv.Atoi(os.Getenv(upgradeReadyEnv))
		if err != nil || fd < firstListenFD+n {
			return nil, fmt.Errorf("%s=%q: not the descriptor after the sockets", upgradeReadyEnv, os.Getenv(upgradeReadyEnv))
		}
		syscall.CloseOnExec(fd)
		hs.ready = os.NewFile(uintptr(fd), "upgrade-ready")
	}
	return hs, nil
}

// serving tells the process that handed the sockets over that this one
// answers on them now, so that it stops reading.
func (hs *handedSockets) serving() error {
	if hs.ready == nil {
		return nil
	}
	_, err := hs.ready.Write([]byte{1})
	hs.ready.Close()
	hs.ready = nil
	return err
}

// notify sends a state to systemd (sd_notify): READY=1 when serving,
// STOPPING=1 on shutdown, MAINPID=N when an upgrade hands the service to
// process N. Without NOTIFY_SOCKET (not started by systemd with
// Type=notify) it does nothing.
func notify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if strings.HasPrefix(path, "@") {
		path = "\x00" + path[1:] // an abstract socket
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify %q: %w", state, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify %q: %w", state, err)
	}
	return nil
}

// logSockets says where the DNS sockets come from and how many queries
// their receive queues can hold while no process reads them (a restart):
// a warning when net.core.rmem_max kept them below what was asked.
func logSockets(dns *dnsserver.Server, log *slog.Logger) {
	rcv, err := dns.ReceiveBuffers()
	if err != nil {
		log.Warn("dns sockets: receive queue unknown", "err", err)
		return
	}
	from := "bound here"
	if n := dns.Inherited(); n == len(dns.Addrs()) {
		from = "handed in (socket activation or upgrade)"
	} else if n > 0 {
		from = fmt.Sprintf("%d of %d addresses handed in, the rest bound here", n, len(dns.Addrs()))
	}
	log.Info("dns sockets", "from", from, "udp_receive_queue_bytes", rcv)
	if rcv < dnsserver.WantReceiveBuffer {
		log.Warn("dns sockets: UDP receive queue smaller than asked; queries arriving during a restart may be lost: raise net.core.rmem_max or set ReceiveBuffer= in the socket unit", "bytes", rcv, "want", dnsserver.WantReceiveBuffer)
	}
}
