package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// reopenOnUSR1 calls reopen on every SIGUSR1 until the returned stop is
// called: logrotate moves a log away and signals (postrotate
// kill -USR1), and what follows goes to a new file under the configured
// name. SIGUSR2 is the upgrade's. Each log subscribes on its own; the
// signal reaches them all.
func reopenOnUSR1(log *slog.Logger, what string, reopen func() error) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-ch:
				if err := reopen(); err != nil {
					log.Error("reopen on SIGUSR1 failed; writing on to the open file", "log", what, "err", err)
				} else {
					log.Info("reopened on SIGUSR1", "log", what)
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
		<-finished
	}
}
