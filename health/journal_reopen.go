package health

import (
	"fmt"
	"os"
)

// Reopen closes the decision log and opens its path again, creating it
// if it is gone: logrotate (or an operator) renames the file away and
// sends SIGUSR1, and the decisions that follow go to a new file under the
// configured name — no copytruncate, no line lost or cut. If the path
// cannot be opened the current file is kept. The new file's first
// checkpoint lists every state, so that it restores on its own.
func (j *FileJournal) Reopen() error {
	f, err := os.OpenFile(j.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("reopen decision log: %w", err)
	}
	j.mu.Lock()
	old := j.f
	j.f = f
	j.gen++ // its next checkpoint is a full one (checkpointDelta)
	j.mu.Unlock()
	return old.Close()
}
