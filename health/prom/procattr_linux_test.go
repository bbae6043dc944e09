//go:build linux

package prom

import (
	"os/exec"
	"syscall"
)

// dieWithTest has the kernel kill the child if the test binary dies
// before its cleanups run (a panic in another goroutine, a timeout).
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
